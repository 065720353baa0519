#!/usr/bin/env python3
"""A small, independent GPT-1 port in plain Python 3 + numpy (float64), written from
docs/cli.md, docs/checkpoints.md and docs/porting.md only, with one switch per
deliberate bug.

It reads a checkpoint of the pack (either layout), runs the forward pass with every
intermediate, the language-model loss and its gradient for every parameter, and
writes them in the dump layout (docs/cli.md, "The dump format"); with --train it also
replays the pack's Adam steps (pretraining, then fine-tuning with L3 on the four
input transformations). check.py compares all of it with the pack:

    python3 conformance/port.py --out /tmp/port --train    # every model of the pack, and train/
    python3 conformance/check.py /tmp/port                 # passes
    python3 conformance/port.py --out /tmp/bad --bug erf-gelu
    python3 conformance/check.py /tmp/bad                  # fails on ffn_act and after

It is also a worked example of a port that needs no Node. The bugs (--bug NAME,
repeatable) are the ones docs/porting.md lists: interleaved-heads, scale-d, erf-gelu,
eps-outside, unbiased-var, mask-before-scale, untied-head.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np

BUGS = ('interleaved-heads', 'scale-d', 'erf-gelu', 'eps-outside', 'unbiased-var', 'mask-before-scale', 'untied-head')
MASK = -1e9  # the original's mask value; -inf would give 0*(-inf) = NaN


# ---------------------------------------------------------------- checkpoints

def block_names(i):
    p = 'h.%d.' % i
    return [p + s for s in ('attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
                            'ln_1.weight', 'ln_1.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias',
                            'mlp.c_proj.weight', 'mlp.c_proj.bias', 'ln_2.weight', 'ln_2.bias')]


def load_original(d):
    """params_shapes.json + params_0..9.npy (one flat float32 vector, split by the shapes) + gpt1-ts.json."""
    shapes = json.load(open(os.path.join(d, 'params_shapes.json')))
    flat = np.concatenate([np.load(os.path.join(d, 'params_%d.npy' % k)) for k in range(10)])
    extras = json.load(open(os.path.join(d, 'gpt1-ts.json'))) if os.path.exists(os.path.join(d, 'gpt1-ts.json')) else {}
    n_layer = (len(shapes) - 2) // 12
    names = ['positions_embed.weight', 'tokens_embed.weight'] + [n for i in range(n_layer) for n in block_names(i)]
    params, off = {}, 0
    for name, shape in zip(names, shapes):
        size = int(np.prod(shape))
        a = flat[off:off + size].reshape(shape)
        params[name] = a[0] if len(shape) == 3 else a  # Conv1D weights are [1, nx, nf] in the file
        off += size
    cfg = {'n_layer': n_layer, 'n_head': extras.get('n_head', 12), 'n_special': extras.get('n_special', 0),
           'eps': extras.get('layer_norm_epsilon', 1e-5)}
    return cfg, params


def load_hf(d):
    """model.safetensors (8-byte little-endian header length, JSON header, raw data) + config.json."""
    raw = open(os.path.join(d, 'model.safetensors'), 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    params = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        assert e['dtype'] == 'F32', name
        lo, hi = e['data_offsets']
        params[name.replace('transformer.', '')] = np.frombuffer(raw[8 + n + lo:8 + n + hi], '<f4').reshape(e['shape'])
    c = json.load(open(os.path.join(d, 'config.json')))
    cfg = {'n_layer': c['n_layer'], 'n_head': c['n_head'], 'n_special': c.get('n_special', 0), 'eps': c['layer_norm_epsilon']}
    return cfg, params


def load(d):
    return load_original(d) if os.path.exists(os.path.join(d, 'params_shapes.json')) else load_hf(d)


# ---------------------------------------------------------------- the model

def split_heads(x, H, bugs):
    T, d = x.shape
    if 'interleaved-heads' in bugs:  # head h takes columns h, h+H, h+2H, … (reshape [T, d_h, H])
        return x.reshape(T, d // H, H).transpose(2, 0, 1)
    return x.reshape(T, H, d // H).transpose(1, 0, 2)  # head h: columns h·d_h … (h+1)·d_h − 1


def merge_heads(x, bugs):
    H, T, dh = x.shape
    if 'interleaved-heads' in bugs:
        return x.transpose(1, 2, 0).reshape(T, H * dh)
    return x.transpose(1, 0, 2).reshape(T, H * dh)


def gelu(u, bugs):
    if 'erf-gelu' in bugs:
        return 0.5 * u * (1 + np.vectorize(math.erf)(u / math.sqrt(2)))
    return 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))


def gelu_grad(u):
    th = np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3))
    return 0.5 * (1 + th) + 0.5 * u * (1 - th ** 2) * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * u ** 2)


def layer_norm(x, g, b, eps, bugs):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).sum(-1, keepdims=True) / (x.shape[-1] - (1 if 'unbiased-var' in bugs else 0))
    rstd = 1 / (np.sqrt(var) + eps) if 'eps-outside' in bugs else 1 / np.sqrt(var + eps)
    xhat = (x - mu) * rstd
    return g * xhat + b, xhat, rstd


def layer_norm_backward(dy, xhat, rstd, g):
    dxhat = dy * g
    dx = rstd * (dxhat - dxhat.mean(-1, keepdims=True) - xhat * (dxhat * xhat).mean(-1, keepdims=True))
    return dx, (dy * xhat).sum(0), dy.sum(0)


def block(P, i, x, cfg, bugs):
    """One Post-LN block; returns h and everything it computed (the dump's intermediates and the backward's inputs)."""
    p = 'h.%d.' % i
    T, d = x.shape
    H = cfg['n_head']
    dh = d // H
    B = np.tril(np.ones((T, T)))
    scale = 1 / math.sqrt(d if 'scale-d' in bugs else dh)
    qkv = x @ P[p + 'attn.c_attn.weight'] + P[p + 'attn.c_attn.bias']
    q, k, v = (split_heads(qkv[:, j * d:(j + 1) * d], H, bugs) for j in range(3))
    s = q @ k.transpose(0, 2, 1)
    if 'mask-before-scale' in bugs:
        w = (s * B + MASK * (1 - B)) * scale
    else:
        w = s * scale * B + MASK * (1 - B)
    e = np.exp(w - w.max(-1, keepdims=True))
    probs = e / e.sum(-1, keepdims=True)
    a = merge_heads(probs @ v, bugs)
    y = a @ P[p + 'attn.c_proj.weight'] + P[p + 'attn.c_proj.bias']
    z1 = x + y
    n, xhat1, rstd1 = layer_norm(z1, P[p + 'ln_1.weight'], P[p + 'ln_1.bias'], cfg['eps'], bugs)
    u = n @ P[p + 'mlp.c_fc.weight'] + P[p + 'mlp.c_fc.bias']
    g = gelu(u, bugs)
    m = g @ P[p + 'mlp.c_proj.weight'] + P[p + 'mlp.c_proj.bias']
    z2 = n + m
    h, xhat2, rstd2 = layer_norm(z2, P[p + 'ln_2.weight'], P[p + 'ln_2.bias'], cfg['eps'], bugs)
    return {'x': x, 'c_attn': qkv, 'q': q, 'k': k, 'v': v, 'scores': w, 'probs': probs, 'merged': a, 'attn_out': y,
            'z1': z1, 'n': n, 'ffn_pre': u, 'ffn_act': g, 'ffn_out': m, 'z2': z2, 'h': h,
            'xhat1': xhat1, 'rstd1': rstd1, 'xhat2': xhat2, 'rstd2': rstd2, 'B': B, 'scale': scale}


def block_backward(P, i, c, dh_out, cfg, bugs):
    p = 'h.%d.' % i
    H = cfg['n_head']
    G = {}
    dz2, G[p + 'ln_2.weight'], G[p + 'ln_2.bias'] = layer_norm_backward(dh_out, c['xhat2'], c['rstd2'], P[p + 'ln_2.weight'])
    G[p + 'mlp.c_proj.weight'], G[p + 'mlp.c_proj.bias'] = c['ffn_act'].T @ dz2, dz2.sum(0)
    du = (dz2 @ P[p + 'mlp.c_proj.weight'].T) * gelu_grad(c['ffn_pre'])
    G[p + 'mlp.c_fc.weight'], G[p + 'mlp.c_fc.bias'] = c['n'].T @ du, du.sum(0)
    dn = dz2 + du @ P[p + 'mlp.c_fc.weight'].T
    dz1, G[p + 'ln_1.weight'], G[p + 'ln_1.bias'] = layer_norm_backward(dn, c['xhat1'], c['rstd1'], P[p + 'ln_1.weight'])
    G[p + 'attn.c_proj.weight'], G[p + 'attn.c_proj.bias'] = c['merged'].T @ dz1, dz1.sum(0)
    do = split_heads(dz1 @ P[p + 'attn.c_proj.weight'].T, H, bugs)
    dprobs = do @ c['v'].transpose(0, 2, 1)
    dv = c['probs'].transpose(0, 2, 1) @ do
    dw = c['probs'] * (dprobs - (dprobs * c['probs']).sum(-1, keepdims=True))
    ds = dw * c['B'] * c['scale']
    dq, dk = ds @ c['k'], ds.transpose(0, 2, 1) @ c['q']
    dqkv = np.concatenate([merge_heads(t, bugs) for t in (dq, dk, dv)], axis=1)
    G[p + 'attn.c_attn.weight'], G[p + 'attn.c_attn.bias'] = c['x'].T @ dqkv, dqkv.sum(0)
    return dz1 + dqkv @ P[p + 'attn.c_attn.weight'].T, G


def forward(P, cfg, ids, bugs):
    """h_0 = W_e[ids] + W_p[:T]; the blocks; logits = h_n·W_eᵀ over every row (the tied head)."""
    T = len(ids)
    We, Wp = P['tokens_embed.weight'], P['positions_embed.weight']
    head = We
    if 'untied-head' in bugs:  # a separate output matrix, initialised as a fresh layer would be
        head = np.random.default_rng(0).normal(0, 0.02, We.shape)
    h = We[ids] + Wp[:T]
    hidden, caches = [h], []
    for i in range(cfg['n_layer']):
        c = block(P, i, h, cfg, bugs)
        caches.append(c)
        h = c['h']
        hidden.append(h)
    return {'ids': list(ids), 'head': head, 'logits': h @ head.T, 'hidden': hidden, 'caches': caches}


def lm_loss(logits, ids):
    """Mean next-token cross-entropy over t = 0 … T−2, and its gradient dL/dlogits."""
    T = len(ids)
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    loss = -np.mean([logp[t, ids[t + 1]] for t in range(T - 1)])
    d = np.exp(logp)
    d[np.arange(T - 1), ids[1:]] -= 1
    d[T - 1] = 0
    return loss, d / (T - 1)


def backward(P, cfg, f, dlogits, dhidden, bugs):
    """Gradients of every parameter, from dL/dlogits and dL/dh_n (either may be None)."""
    ids, hN = f['ids'], f['hidden'][-1]
    dh = np.zeros_like(hN)
    if dlogits is not None:
        dh = dh + dlogits @ f['head']
    if dhidden is not None:
        dh = dh + dhidden
    G = {}
    for i in reversed(range(cfg['n_layer'])):
        dh, g = block_backward(P, i, f['caches'][i], dh, cfg, bugs)
        G.update(g)
    dWe = dlogits.T @ hN if dlogits is not None and 'untied-head' not in bugs else np.zeros_like(P['tokens_embed.weight'])
    np.add.at(dWe, ids, dh)
    dWp = np.zeros_like(P['positions_embed.weight'])
    dWp[:len(ids)] = dh
    G['tokens_embed.weight'], G['positions_embed.weight'] = dWe, dWp
    return G


def as64(P):
    return {k: np.asarray(v, np.float64) for k, v in P.items()}


def run(P, cfg, ids, bugs):
    """Forward, loss and gradients of the language-model loss for one sequence."""
    P = as64(P)
    f = forward(P, cfg, ids, bugs)
    loss, dlogits = lm_loss(f['logits'], ids)
    return {'logits': f['logits'], 'hidden': f['hidden'], 'caches': f['caches'], 'loss': loss, 'grads': backward(P, cfg, f, dlogits, None, bugs)}


# ---------------------------------------------------------------- Adam (opt.py) and the fine-tuning objective

SCHEDULES = {
    'warmup_cosine': lambda x, w: (x / w) if x <= w else 0.5 * (1 + math.cos(math.pi * x)),
    'warmup_constant': lambda x, w: (x / w) if x <= w else 1.0,
    'warmup_linear': lambda x, w: ((x / w) if x <= w else 1.0) * (1 - x),
}


def adam(params, grads, state, hp):
    """One update of the original Adam: clip to the global norm, bias-corrected rate times the schedule, L2 on matrices."""
    norm = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
    c = hp['max_grad_norm']
    factor = c / norm if c > 0 and norm > c else 1.0
    t = state['t']
    lrt = hp['lr'] * math.sqrt(1 - hp['b2'] ** (t + 1)) / (1 - hp['b1'] ** (t + 1)) * SCHEDULES[hp['schedule']](t / hp['t_total'], hp['warmup'])
    out, m, v = {}, {}, {}
    for k, p in params.items():
        g = grads[k] * factor
        m[k] = hp['b1'] * state['m'].get(k, 0) + (1 - hp['b1']) * g
        v[k] = hp['b2'] * state['v'].get(k, 0) + (1 - hp['b2']) * g * g
        decay = hp['l2'] * p if (p.ndim > 1 or hp['vector_l2']) and hp['l2'] > 0 else 0
        out[k] = p - lrt * (m[k] / (np.sqrt(v[k]) + hp['e']) + decay)
    return out, {'t': t + 1, 'm': m, 'v': v}, norm, lrt


def transform(ex, sp, n_ctx):
    """The input transformations of Figure 1: one token sequence per model run."""
    start, delim, clf = sp
    L = n_ctx // 2 - 2
    pair = lambda a, b: [start] + a[:L] + [delim] + b[:L] + [clf]
    kind = ex['kind']
    if kind == 'classification':
        seqs = [[start] + ex['text'][:n_ctx - 2] + [clf]]
    elif kind == 'entailment':
        seqs = [pair(ex['premise'], ex['hypothesis'])]
    elif kind == 'similarity':
        seqs = [pair(ex['text1'], ex['text2']), pair(ex['text2'], ex['text1'])]
    else:
        seqs = [pair(ex['context'], c) for c in ex['choices']]
    return [{'ids': s, 'mask': [1] * len(s), 'pool': len(s) - 1} for s in seqs]


def finetune_example(P, head, cfg, ex, sp, n_ctx, lm_coef):
    """L3 = clf_loss + λ·lm_loss of one example, and its gradients (model, classifier)."""
    seqs = transform(ex, sp, n_ctx)
    fs = [forward(P, cfg, s['ids'], set()) for s in seqs]
    pooled = np.stack([f['hidden'][-1][s['pool']] for f, s in zip(fs, seqs)])
    x = pooled if ex['kind'] == 'multiple-choice' else (pooled.sum(0, keepdims=True) if ex['kind'] == 'similarity' else pooled)
    scores = (x @ head['clf.weight'] + head['clf.bias']).reshape(-1)
    z = scores - scores.max()
    p = np.exp(z) / np.exp(z).sum()
    clf_loss = -math.log(p[ex['label']])
    dscores = p.copy()
    dscores[ex['label']] -= 1
    dS = dscores.reshape(x.shape[0], -1)
    hg = {'clf.weight': x.T @ dS, 'clf.bias': dS.sum(0)}
    dx = dS @ head['clf.weight'].T
    k = len(seqs)
    lm, G = 0.0, None
    for j, (f, s) in enumerate(zip(fs, seqs)):
        l, dl = lm_loss(f['logits'], s['ids'])
        lm += l / k
        dhid = np.zeros_like(f['hidden'][-1])
        dhid[s['pool']] = dx[j if ex['kind'] == 'multiple-choice' else 0]
        g = backward(P, cfg, f, dl * lm_coef / k, dhid, set())
        G = g if G is None else {n: G[n] + g[n] for n in G}
    return clf_loss + lm_coef * lm, clf_loss, lm, G, hg, seqs


def checksums(params):
    return {k: {'sum': float(p.sum()), 'sum_abs': float(np.abs(p).sum()), 'sum_sq': float((p * p).sum())} for k, p in params.items()}


def train(pack, out):
    """Replays train/pretrain.json and train/finetune-*.json: the same data and hyper-parameters, this port's arithmetic."""
    cfg, P = load(os.path.join(pack, 'models', 'exposing', 'original'))
    P = as64(P)
    pre = json.load(open(os.path.join(pack, 'train', 'pretrain.json')))
    state = {'t': 0, 'm': {}, 'v': {}}
    steps = []
    for batch in pre['batches']:
        losses, G = [], None
        for ids in batch:
            f = forward(P, cfg, ids, set())
            l, dl = lm_loss(f['logits'], ids)
            losses.append(l)
            g = backward(P, cfg, f, dl, None, set())
            G = g if G is None else {n: G[n] + g[n] for n in G}
        G = {n: g / len(batch) for n, g in G.items()}
        P, state, norm, lr = adam(P, G, state, pre['hparams'])
        steps.append({'step': state['t'], 'loss': float(np.mean(losses)), 'grad_norm': norm, 'lr': lr})
    os.makedirs(os.path.join(out, 'train'), exist_ok=True)
    json.dump({'steps': steps, 'checksums': checksums(P)}, open(os.path.join(out, 'train', 'pretrain.json'), 'w'))
    n_vocab = P['tokens_embed.weight'].shape[0] - cfg['n_special']
    sp = (n_vocab, n_vocab + 1, n_vocab + 2)
    n_ctx = P['positions_embed.weight'].shape[0]
    for f in sorted(os.listdir(os.path.join(pack, 'train'))):
        if not f.startswith('finetune-'):
            continue
        spec = json.load(open(os.path.join(pack, 'train', f)))
        init = spec['classifier_init']
        model = dict(P)
        head = {'clf.weight': np.array(init['weight'], np.float64).reshape(init['shape']), 'clf.bias': np.array(init['bias'], np.float64)}
        state, steps = {'t': 0, 'm': {}, 'v': {}}, []
        for _ in range(len(spec['steps'])):
            tot = {'loss': 0.0, 'clf': 0.0, 'lm': 0.0}
            G, HG = None, None
            for ex in spec['examples']:
                loss, clf, lm, g, hg, seqs = finetune_example(model, head, cfg, ex, sp, n_ctx, spec['lm_coef'])
                tot['loss'] += loss
                tot['clf'] += clf
                tot['lm'] += lm
                G = g if G is None else {n: G[n] + g[n] for n in G}
                HG = hg if HG is None else {n: HG[n] + hg[n] for n in HG}
            n = len(spec['examples'])
            both, state, norm, lr = adam({**model, **head}, {**{k: g / n for k, g in G.items()}, **{k: g / n for k, g in HG.items()}}, state, spec['hparams'])
            head = {k: both.pop(k) for k in ('clf.weight', 'clf.bias')}
            model = both
            steps.append({'step': state['t'], 'loss': tot['loss'] / n, 'clf_loss': tot['clf'] / n, 'lm_loss': tot['lm'] / n, 'grad_norm': norm, 'lr': lr})
        examples = [{'sequences': transform(ex, sp, n_ctx)} for ex in spec['examples']]
        json.dump({'steps': steps, 'checksums': checksums({**model, **head}), 'examples': examples}, open(os.path.join(out, 'train', f), 'w'))


# ---------------------------------------------------------------- output in the dump layout

INTERMEDIATES = ('c_attn', 'q', 'k', 'v', 'scores', 'merged', 'attn_out', 'z1', 'n', 'ffn_pre', 'ffn_act', 'ffn_out', 'z2', 'h')


def write_dump(out, r):
    os.makedirs(os.path.join(out, 'intermediates'), exist_ok=True)
    os.makedirs(os.path.join(out, 'grads'), exist_ok=True)
    f32 = lambda a: np.asarray(a, np.float32)
    np.save(os.path.join(out, 'logits.npy'), f32(r['logits']))
    np.save(os.path.join(out, 'hidden_states.npy'), f32(np.stack(r['hidden'])))
    np.save(os.path.join(out, 'attentions.npy'), f32(np.stack([c['probs'] for c in r['caches']])))
    for name in INTERMEDIATES:
        np.save(os.path.join(out, 'intermediates', name + '.npy'), f32(np.stack([c[name] for c in r['caches']])))
    for name, g in r['grads'].items():
        np.save(os.path.join(out, 'grads', name + '.npy'), f32(g))
    json.dump({'lm_loss': float(r['loss'])}, open(os.path.join(out, 'loss.json'), 'w'))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pack', default=here, help='the conformance pack (default: this directory)')
    ap.add_argument('--out', required=True, help='where to write dumps/<model>/')
    ap.add_argument('--layout', choices=('original', 'hf'), default='original', help='which copy of each checkpoint to read')
    ap.add_argument('--bug', action='append', default=[], choices=BUGS, help='introduce a deliberate bug (repeatable)')
    ap.add_argument('--train', action='store_true', help='also replay the optimizer steps of train/ (no bugs there)')
    a = ap.parse_args()
    if a.train:
        train(a.pack, a.out)
        print('wrote %s' % os.path.join(a.out, 'train'))
    models = os.path.join(a.pack, 'models')
    for name in sorted(os.listdir(models)):
        cfg, P = load(os.path.join(models, name, a.layout))
        ids = json.load(open(os.path.join(models, name, 'ids.json')))
        write_dump(os.path.join(a.out, 'dumps', name), run(P, cfg, ids, set(a.bug)))
        print('wrote %s' % os.path.join(a.out, 'dumps', name))


if __name__ == '__main__':
    sys.exit(main())
