#!/usr/bin/env python3
"""Compares a GPT-1 port's outputs with the conformance pack. Plain Python 3 + numpy.

    python3 conformance/check.py OUT [--pack DIR] [--strict]

OUT mirrors the pack's layout (docs/porting.md, "Using check.py"); check.py compares
whatever OUT has:

    OUT/dumps/<model>/...                 the dump of models/<model>/ on models/<model>/ids.json
                                          (logits.npy, hidden_states.npy, attentions.npy,
                                          intermediates/<name>.npy, loss.json, grads/<name>.npy)
    OUT/train/pretrain.json, finetune-<task>.json   the "steps" and "checksums" of the same runs
    OUT/tokenizer/encode.jsonl            {"text", "ids"} per line, the texts of the pack's file
    OUT/tokenizer/bpe-learn/merges.txt    merges learned from the pack's corpus.txt (and encoder.json)
    OUT/models/...                        checkpoint files (bit for bit: used to check the pack's regeneration)

It prints one line per quantity: the error, the tolerance, and pass / FAIL (with the
first layer or tensor over the tolerance), and exits 1 if anything failed, 0
otherwise. Quantities OUT lacks are listed as "not provided" (with --strict they
fail). It also checks the pack itself against its MANIFEST.

Errors and tolerances (the table and its derivation: docs/porting.md, "Tolerances"):
"rel" is the normwise relative error max|a - b| / max|b| of the project's specs,
computed per layer (per tensor for gradients); "abs" is max|a - b|.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np

# quantity -> (measure, tolerance). Derivation in docs/porting.md, "Tolerances".
TOL = {
    'logits': ('rel', 2e-5),
    'hidden_states': ('rel', 2e-5),
    'attentions': ('abs', 1e-5),
    'c_attn': ('rel', 2e-5), 'q': ('rel', 2e-5), 'k': ('rel', 2e-5), 'v': ('rel', 2e-5),
    'scores': ('rel', 2e-5),              # the causal entries (k <= q)
    'scores_masked': ('abs', 0.0),        # the masked entries (k > q): exactly -1e9 in float32
    'merged': ('rel', 2e-5), 'attn_out': ('rel', 2e-5), 'z1': ('rel', 2e-5), 'n': ('rel', 2e-5),
    'ffn_pre': ('rel', 2e-5), 'ffn_act': ('rel', 2e-5), 'ffn_out': ('rel', 2e-5), 'z2': ('rel', 2e-5), 'h': ('rel', 2e-5),
    'lm_loss': ('rel', 1e-5),
    'grads': ('rel', 1e-3),
    'train_loss': ('rel', 1e-5),
    'train_grad_norm': ('rel', 1e-4),
    'train_lr': ('rel', 1e-9),
    'train_checksums': ('rel', 5e-4),
    'tokenizer': ('exact', 0),
    'bpe_learn': ('exact', 0),
    'models': ('exact', 0),
}

INTERMEDIATES = ('c_attn', 'q', 'k', 'v', 'scores', 'merged', 'attn_out', 'z1', 'n', 'ffn_pre', 'ffn_act', 'ffn_out', 'z2', 'h')


class Report:
    def __init__(self, strict, quiet):
        self.strict, self.quiet, self.failed, self.results = strict, quiet, 0, []

    def line(self, what, err, key, status, note=''):
        measure, tol = TOL[key]
        if status == 'FAIL':
            self.failed += 1
        self.results.append({'what': what, 'quantity': key, 'measure': measure, 'error': err, 'tol': tol, 'status': status, 'note': note})
        e = '%.2e' % err if isinstance(err, float) else str(err)
        self.say('%-4s %-52s %-5s %10s  tol %-8s %s' % (status, what, measure, e, '%g' % tol, note))

    def missing(self, what):
        if self.strict:
            self.failed += 1
        self.results.append({'what': what, 'status': 'FAIL' if self.strict else 'missing'})
        self.say('%-4s %-52s not provided' % ('FAIL' if self.strict else '--', what))

    def say(self, s):
        if not self.quiet:
            print(s)


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.abs(b).max() if b.size else 0.0
    d = np.abs(a - b).max() if b.size else 0.0
    return float(d / scale) if scale > 0 else float(d)


def measure(kind, a, b):
    if kind == 'rel':
        return rel(a, b)
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).max()) if np.size(b) else 0.0


def compare_layers(rep, what, key, got, want, split=None):
    """Per-layer (first axis) error; reports the worst and the first layer over the tolerance."""
    kind, tol = TOL[key]
    if got.shape != want.shape:
        rep.line(what, 'shape', key, 'FAIL', 'shape %s, expected %s' % (list(got.shape), list(want.shape)))
        return
    errs = [measure(kind, g if split is None else g[split[i]], w if split is None else w[split[i]]) for i, (g, w) in enumerate(zip(got, want))]
    if not np.all(np.isfinite(got)):
        rep.line(what, 'NaN', key, 'FAIL', 'not finite')
        return
    bad = [i for i, e in enumerate(errs) if not e <= tol]
    note = 'first over at [%d]' % bad[0] if bad else ''
    rep.line(what, max(errs), key, 'FAIL' if bad else 'pass', note)
    rep.results[-1]['first'] = bad[0] if bad else None


def npy(path):
    return np.load(path) if os.path.exists(path) else None


def check_dump(rep, pack, out, model):
    P, O = os.path.join(pack, 'dumps', model), os.path.join(out, 'dumps', model)
    if not os.path.isdir(O):
        rep.missing('dumps/%s' % model)
        return
    for f, key, per_layer in (('logits.npy', 'logits', False), ('hidden_states.npy', 'hidden_states', True), ('attentions.npy', 'attentions', True)):
        got = npy(os.path.join(O, f))
        if got is None:
            rep.missing('dumps/%s/%s' % (model, f))
            continue
        want = np.load(os.path.join(P, f))
        compare_layers(rep, 'dumps/%s/%s' % (model, f), key, got if per_layer else got[None], want if per_layer else want[None])
    for name in INTERMEDIATES:
        got = npy(os.path.join(O, 'intermediates', name + '.npy'))
        what = 'dumps/%s/intermediates/%s' % (model, name)
        if got is None:
            rep.missing(what)
            continue
        want = np.load(os.path.join(P, 'intermediates', name + '.npy'))
        if name != 'scores' or got.shape != want.shape:
            compare_layers(rep, what, name, got, want)
            continue
        T = want.shape[-1]
        causal = np.broadcast_to(np.tril(np.ones((T, T), bool)), want.shape[1:])
        compare_layers(rep, what + ' (k <= q)', 'scores', got, want, split=[causal] * len(want))
        compare_layers(rep, what + ' (masked)', 'scores_masked', got, want, split=[~causal] * len(want))
    lp = os.path.join(O, 'loss.json')
    if os.path.exists(lp):
        got, want = json.load(open(lp))['lm_loss'], json.load(open(os.path.join(P, 'loss.json')))['lm_loss']
        e = abs(got - want) / abs(want)
        rep.line('dumps/%s/loss.json lm_loss' % model, e, 'lm_loss', 'pass' if e <= TOL['lm_loss'][1] else 'FAIL')
    else:
        rep.missing('dumps/%s/loss.json' % model)
    gdir = os.path.join(P, 'grads')
    names = sorted(f[:-4] for f in os.listdir(gdir))
    if not os.path.isdir(os.path.join(O, 'grads')):
        rep.missing('dumps/%s/grads/' % model)
        return
    worst, bad, lacking = 0.0, [], []
    for n in names:
        got = npy(os.path.join(O, 'grads', n + '.npy'))
        if got is None:
            lacking.append(n)
            continue
        want = np.load(os.path.join(gdir, n + '.npy'))
        e = rel(got, want) if got.shape == want.shape and np.all(np.isfinite(got)) else float('inf')
        worst = max(worst, e)
        if not e <= TOL['grads'][1]:
            bad.append(n)
    note = ('over: %s' % ', '.join(bad[:4]) + (' …' if len(bad) > 4 else '')) if bad else ''
    if lacking:
        note += ' missing %d' % len(lacking)
    rep.line('dumps/%s/grads (%d tensors)' % (model, len(names)), worst, 'grads', 'FAIL' if bad or lacking else 'pass', note)


def check_train(rep, pack, out, f):
    want = json.load(open(os.path.join(pack, 'train', f)))
    path = os.path.join(out, 'train', f)
    if not os.path.exists(path):
        rep.missing('train/%s' % f)
        return
    got = json.load(open(path))
    if len(got.get('steps', [])) != len(want['steps']):
        rep.line('train/%s steps' % f, 'count', 'train_loss', 'FAIL', '%d steps, expected %d' % (len(got.get('steps', [])), len(want['steps'])))
        return
    for field, key in (('loss', 'train_loss'), ('grad_norm', 'train_grad_norm'), ('lr', 'train_lr')):
        errs = [abs(g[field] - w[field]) / max(abs(w[field]), 1e-30) for g, w in zip(got['steps'], want['steps'])]
        bad = [i for i, e in enumerate(errs) if not e <= TOL[key][1]]
        rep.line('train/%s %s' % (f, field), max(errs), key, 'FAIL' if bad else 'pass', 'first over at step %d' % (bad[0] + 1) if bad else '')
    worst, bad = 0.0, []
    step = want['hparams']['lr']  # an Adam step moves each element by about the learning rate
    for name, w in want['checksums'].items():
        g = got.get('checksums', {}).get(name)
        if g is None:
            bad.append(name)
            continue
        # relative to Σ|x|, or to one step's size·lr for a parameter that is (nearly) 0
        scale = max(w['sum_abs'], w.get('size', 1) * step)
        e = max(abs(g['sum'] - w['sum']) / scale, abs(g['sum_abs'] - w['sum_abs']) / scale,
                abs(g['sum_sq'] - w['sum_sq']) / max(w['sum_sq'], w.get('size', 1) * step * step))
        worst = max(worst, e)
        if not e <= TOL['train_checksums'][1]:
            bad.append(name)
    rep.line('train/%s checksums (%d parameters)' % (f, len(want['checksums'])), worst, 'train_checksums', 'FAIL' if bad else 'pass',
             'over: %s' % ', '.join(bad[:3]) if bad else '')
    if 'examples' in got:
        same = [g.get('sequences') == w['sequences'] for g, w in zip(got['examples'], want['examples'])]
        rep.line('train/%s input transformation' % f, sum(not s for s in same), 'tokenizer', 'pass' if all(same) else 'FAIL')


def check_tokenizer(rep, pack, out):
    path = os.path.join(out, 'tokenizer', 'encode.jsonl')
    if not os.path.exists(path):
        rep.missing('tokenizer/encode.jsonl')
    else:
        want = [json.loads(l) for l in open(os.path.join(pack, 'tokenizer', 'encode.jsonl'), encoding='utf-8')]
        got = {}
        for l in open(path, encoding='utf-8'):
            r = json.loads(l)
            got[r['text']] = r['ids']
        bad = [w['text'] for w in want if got.get(w['text']) != w['ids']]
        rep.line('tokenizer/encode.jsonl (%d texts)' % len(want), len(bad), 'tokenizer', 'FAIL' if bad else 'pass',
                 'first: %s' % json.dumps(bad[0], ensure_ascii=False)[:60] if bad else '')
    for f in ('merges.txt', 'encoder.json'):
        path = os.path.join(out, 'tokenizer', 'bpe-learn', f)
        if not os.path.exists(path):
            rep.missing('tokenizer/bpe-learn/%s' % f)
            continue
        a, b = open(path, 'rb').read(), open(os.path.join(pack, 'tokenizer', 'bpe-learn', f), 'rb').read()
        same = a == b if f == 'merges.txt' else json.loads(a) == json.loads(b)
        rep.line('tokenizer/bpe-learn/%s' % f, 0 if same else 1, 'bpe_learn', 'pass' if same else 'FAIL')


def manifest(pack):
    rows = [l.split('  ', 1) for l in open(os.path.join(pack, 'MANIFEST'), encoding='utf-8').read().splitlines() if l]
    return {path: digest for digest, path in rows}


def check_models(rep, pack, out):
    """Checkpoint files, bit for bit (a regenerated pack must reproduce them exactly)."""
    if not os.path.isdir(os.path.join(out, 'models')):
        return
    files = [p for p in manifest(pack) if p.startswith('models/')]
    bad = [p for p in files if not os.path.exists(os.path.join(out, p)) or open(os.path.join(out, p), 'rb').read() != open(os.path.join(pack, p), 'rb').read()]
    rep.line('models/ (%d files, bit for bit)' % len(files), len(bad), 'models', 'FAIL' if bad else 'pass', 'first: %s' % bad[0] if bad else '')


def check_manifest(rep, pack):
    m = manifest(pack)
    bad = [p for p, d in m.items() if not os.path.exists(os.path.join(pack, p)) or hashlib.sha256(open(os.path.join(pack, p), 'rb').read()).hexdigest() != d]
    if bad:
        rep.failed += 1
    rep.say('%-4s %-52s %d files%s' % ('FAIL' if bad else 'pass', 'pack MANIFEST (sha256)', len(m), ', differ: %s' % ', '.join(bad[:3]) if bad else ''))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description='compare a GPT-1 port\'s outputs with the conformance pack')
    ap.add_argument('out', help='the port\'s output directory (same layout as the pack)')
    ap.add_argument('--pack', default=here, help='the pack (default: the directory of check.py)')
    ap.add_argument('--strict', action='store_true', help='a quantity the port did not provide is a failure')
    ap.add_argument('--json', action='store_true', help='print the results as one JSON array instead of lines')
    a = ap.parse_args()
    rep = Report(a.strict, a.json)
    check_manifest(rep, a.pack)
    for model in sorted(os.listdir(os.path.join(a.pack, 'dumps'))):
        check_dump(rep, a.pack, a.out, model)
    for f in sorted(os.listdir(os.path.join(a.pack, 'train'))):
        check_train(rep, a.pack, a.out, f)
    check_tokenizer(rep, a.pack, a.out)
    check_models(rep, a.pack, a.out)
    if a.json:
        print(json.dumps(rep.results))
    else:
        print('%d failed' % rep.failed)
    return 1 if rep.failed else 0


if __name__ == '__main__':
    sys.exit(main())
