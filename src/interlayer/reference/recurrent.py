"""Reference kernels: embedding, lstm, gru, rnn (the formulas in ``ir/ops/recurrent.py``)."""
from __future__ import annotations

import numpy as np

from ..ir.ops.recurrent import directions, state_count
from .interpreter import kernel

_ACT = {
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0),
}


@kernel("embedding")
def embedding(attrs, weights, x):
    return weights["weight"][np.asarray(x).astype(np.int64)]


def _lstm_step(attrs, w, x_t, state):
    h, c = state
    act, sigma = _ACT[attrs["activation"]], _ACT[attrs["recurrent_activation"]]
    i, f, g, o = np.split(x_t @ w["ih"].T + w["b_ih"] + h @ w["hh"].T + w["b_hh"], 4, axis=-1)
    c = sigma(f) * c + sigma(i) * act(g)
    return sigma(o) * act(c), (sigma(o) * act(c), c)


def _gru_step(attrs, w, x_t, state):
    (h,) = state
    act, sigma = _ACT[attrs["activation"]], _ACT[attrs["recurrent_activation"]]
    a_r, a_z, a_n = np.split(x_t @ w["ih"].T + w["b_ih"], 3, axis=-1)
    w_hr, w_hz, w_hn = np.split(w["hh"], 3, axis=0)
    b_hr, b_hz, b_hn = np.split(w["b_hh"], 3)
    r = sigma(a_r + h @ w_hr.T + b_hr)
    z = sigma(a_z + h @ w_hz.T + b_hz)
    if attrs["reset_after"]:
        n = act(a_n + r * (h @ w_hn.T + b_hn))
    else:
        n = act(a_n + (r * h) @ w_hn.T + b_hn)
    h = (1 - z) * n + z * h
    return h, (h,)


def _rnn_step(attrs, w, x_t, state):
    (h,) = state
    h = _ACT[attrs["activation"]](x_t @ w["ih"].T + w["b_ih"] + h @ w["hh"].T + w["b_hh"])
    return h, (h,)


_STEPS = {"lstm": _lstm_step, "gru": _gru_step, "rnn": _rnn_step}


def _direction(op, attrs, weights, suffix, x, state, reverse):
    """One layer in one direction: the outputs aligned to input time, and the final state."""
    hidden = attrs["hidden_size"]
    w = {"ih": weights["weight_ih" + suffix], "hh": weights["weight_hh" + suffix]}
    for key in ("b_ih", "b_hh"):
        name = key[0] + "ias_" + key[2:] + suffix
        w[key] = weights[name] if attrs["bias"] else np.zeros(w["ih"].shape[0])
    steps = range(x.shape[1] - 1, -1, -1) if reverse else range(x.shape[1])
    outputs = np.zeros((x.shape[0], x.shape[1], hidden))
    for t in steps:
        outputs[:, t], state = _STEPS[op](attrs, w, x[:, t], state)
    return outputs, state


def _merge(mode, forward, backward):
    if mode == "concat":
        return np.concatenate([forward, backward], axis=-1)
    return {"sum": forward + backward, "mul": forward * backward, "ave": (forward + backward) / 2}[mode]


def recurrent(op, attrs, weights, x, *initial):
    count, dirs, hidden = state_count(op), directions(attrs), attrs["hidden_size"]
    x = np.asarray(x, dtype=np.float64)
    if attrs["go_backwards"]:
        x = x[:, ::-1]
    zeros = np.zeros((x.shape[0], attrs["num_layers"] * dirs, hidden))
    initial = [np.asarray(s, dtype=np.float64) for s in initial] + [zeros] * (count - len(initial))
    finals: list[list[np.ndarray]] = [[] for _ in range(count)]
    last: list[np.ndarray] = []
    for layer in range(attrs["num_layers"]):
        outs = []
        for d in range(dirs):
            index = layer * dirs + d
            state = tuple(s[:, index] for s in initial)
            suffix = f"_l{layer}" + ("_reverse" if d else "")
            out, state = _direction(op, attrs, weights, suffix, x, state, reverse=bool(d))
            outs.append(out)
            for k in range(count):
                finals[k].append(state[k])
        x = outs[0] if dirs == 1 else _merge(attrs["merge_mode"], *outs)
        last = [finals[0][-dirs + d] for d in range(dirs)]
    if attrs["return_sequences"]:
        y = x
    else:
        y = last[0] if dirs == 1 else _merge(attrs["merge_mode"], *last)
    if not attrs["return_state"]:
        return y
    return (y, *(np.stack(f, axis=1) for f in finals))


for _op in ("lstm", "gru", "rnn"):
    kernel(_op)(lambda attrs, weights, *inputs, op=_op: recurrent(op, attrs, weights, *inputs))
