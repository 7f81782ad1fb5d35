"""The PyTorch reference's VAE networks alone, forward + backward, at one DSA setting's shapes.

`compare.py --networks` runs it with the interpreter that has torch (`--torch_python`), never
rjkeras' own; torch is not a dependency of rjkeras:

    ~/torchenv/bin/python benchmarks/torch_vae_networks.py \
        --reference=../shared/bench/pytorch_reference.py --setting=dsa_small --json=out.json

The networks are the reference's own: its `setup_vae` builds them, through a stand-in for
`torch.nn` that keeps every module it makes, so no layer is restated here. Only the glue between
them is, as the reference's iteration runs it: the bi-LSTM's two final states into q(f)'s head,
and the prior's LSTM cell rolled over the frames. Each network's forward + backward of its
output's mean (the weights' gradients) is timed as compare.py times rjkeras' side: two warm-up
calls, then the median of at least five and of at least a second of calls (the reference's D_V, D_I
and G_I, tens of milliseconds each, take the median of five; at 1 ms, five calls are too few).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import time

# The reference's modules, in the order its setup_vae makes them.
EXPECTED = ("Sequential", "LSTM", "Linear", "Sequential", "LSTMCell", "Linear", "Sequential")


class KeepingModules:
    """`torch.nn` as setup_vae sees it: the same classes, each instance kept in `made`."""

    def __init__(self, nn):
        self._nn, self.made = nn, []

    def __getattr__(self, name):
        value = getattr(self._nn, name)
        if not (isinstance(value, type) and issubclass(value, self._nn.Module)):
            return value

        def make(*args, **kwargs):
            module = value(*args, **kwargs)
            self.made.append(module)
            return module
        return make


def reference_modules(reference, torch, nn, F, config):
    """The reference's top-level VAE modules (encoder, bi-LSTM, q(f) head, q(z_t), prior cell,
    prior head, decoder): those it made that are no other's part."""
    keeping = KeepingModules(nn)
    reference.setup_vae(torch, keeping, F, config)
    parts = {id(child) for module in keeping.made for child in module.modules() if child is not module}
    top = [m for m in keeping.made if id(m) not in parts]
    if tuple(type(m).__name__ for m in top) != EXPECTED:
        raise SystemExit(f"the reference's setup_vae made {[type(m).__name__ for m in top]}, "
                         f"not {list(EXPECTED)}: update {__file__}")
    return top


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", required=True, help="pytorch_reference.py")
    parser.add_argument("--setting", required=True, help="one of the reference's VAE settings")
    parser.add_argument("--json", required=True)
    args = parser.parse_args()

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    spec = importlib.util.spec_from_file_location("pytorch_reference", args.reference)
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    if args.setting not in reference.VAE:
        raise SystemExit(f"--setting={args.setting}: the reference's VAE settings are {list(reference.VAE)}")
    torch.set_num_threads(2)
    torch.manual_seed(0)
    c = reference.VAE[args.setting]
    b, t, s, f, z, hid, feat = (c[k] for k in ("batch", "t", "size", "f", "z", "hidden", "feat"))
    enc, bilstm, f_head, z_head, prior, prior_head, dec = reference_modules(reference, torch, nn, F, c)

    frames = torch.rand(b * t, 3, s, s) * 2 - 1
    features = torch.randn(b, t, feat)
    dynamic = torch.randn(b, t, z)
    latents = torch.randn(b * t, f + z)

    def q_f():
        out, _ = bilstm(features)
        return f_head(torch.cat([out[:, -1, :hid], out[:, 0, hid:]], 1))

    def p_z():
        hc, cc, prev, outs = torch.zeros(b, hid), torch.zeros(b, hid), torch.zeros(b, z), []
        for i in range(t):
            hc, cc = prior(prev, (hc, cc))
            outs.append(prior_head(hc))
            prev = dynamic[:, i]
        return torch.stack(outs, 1)

    networks = {"E": ([enc], lambda: enc(frames), list(frames.shape)),
                "q(f)": ([bilstm, f_head], q_f, list(features.shape)),
                "q(z_t)": ([z_head], lambda: z_head(features), list(features.shape)),
                "p(z_t)": ([prior, prior_head], p_z, list(dynamic.shape)),
                "D": ([dec], lambda: dec(latents), list(latents.shape))}
    result = {}
    for name, (modules, forward, shape) in networks.items():
        def forward_backward():
            for m in modules:
                m.zero_grad(set_to_none=True)
            forward().mean().backward()
        forward_backward(), forward_backward()
        times = []
        while len(times) < 5 or (sum(times) < 1.0 and len(times) < 10000):
            start = time.perf_counter()
            forward_backward()
            times.append(time.perf_counter() - start)
        result[f"{name}_fwd_bwd_s"] = statistics.median(times)
        result[f"{name}_input"] = shape
    with open(args.json, "w") as out:
        json.dump(result, out)


if __name__ == "__main__":
    main()
