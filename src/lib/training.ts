/**
 * The `gpt1-ts/training` entry point: pre-training with L₁ (paper §3.1), fine-tuning
 * with L₃ = L₂ + λ·L₁ (§3.2) and the task input transformations (§3.3), Adam with
 * the warm-up schedules, evaluation, and training checkpoints.
 *
 * @module
 */
export { type StepInfo, type OptimizerOptions, type LoopHooks, type PretrainOptions, type TrainResult, PRETRAIN_DEFAULTS, defaultPretrainWarmup, pretrain, sampleWindows } from '../train/pretrain.ts';
export { type FinetuneOptions, type FinetuneResult, FINETUNE_DEFAULTS, finetune, finetuneTotalSteps } from '../train/finetune.ts';
export { type Metrics, type EvaluateOptions, evaluate, evaluateLm, confusionMatrix, matthews, pearson, spearman } from '../train/evaluate.ts';
export { type ClassifierHead, CLF_WEIGHT, CLF_BIAS, N_SPECIAL, addSpecialTokens, initClassifier, validateClassifier, classifierForward, classifierBackward } from '../train/classifier.ts';
export { type AdamHParams, type AdamState, ADAM_DEFAULTS, initAdamState, adamStep, globalNorm, clipByGlobalNorm } from '../train/optimizer.ts';
export { type ScheduleName, type Schedule, SCHEDULE_NAMES, SCHEDULES, DEFAULT_WARMUP, warmupCosine, warmupConstant, warmupLinear, scheduleByName } from '../train/schedules.ts';
export { type TaskKind, type SpecialTokens, type TaskInput, TASK_KINDS, specialTokens, classificationInput, entailmentInput, similarityInput, multipleChoiceInput, transformExample } from '../train/tasks.ts';
export { type Label, type TextExample, type LabeledInput, parseTaskJsonl, readTaskFile, prepareExamples } from '../train/taskdata.ts';
export { type TaskInfo, type TrainerState, type TrainingSnapshot, saveTrainingCheckpoint, loadTrainingCheckpoint, loadClassifier } from '../train/state.ts';
