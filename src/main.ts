/**
 * `npm start`: the main job. Runs GPT-1's recipe end to end at a small scale on real
 * data (see `src/demo/pipeline.ts`) and writes a results folder.
 *
 *     npm start                          # quick preset, spam task (~5 minutes on 2 cores)
 *     npm start -- --task wordnet        # the multiple-choice task
 *     npm start -- --preset full         # the same experiment, larger
 *     npm start -- --help                # every knob
 *
 * @module
 */
import './kernels/node.ts'; // Node's backend hooks: process.env, Dawn, headless-gl, worker threads
import { releaseBackends } from './kernels/backend.ts';
import { start } from './demo/start.ts';

const status = await start(process.argv.slice(2));
await releaseBackends();
process.exit(status);
