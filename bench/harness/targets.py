"""The data path's targets, each next to the figure this run measured, for the report's
"Targets" section. A target whose figure the run did not measure (a smoke run has no 64
connections) is left out."""
from harness.report import find as _find


def _ratio(rows, scenario, baseline, conns):
    full, base = _find(rows, scenario, "axon", conns), _find(rows, scenario, baseline, conns)
    return full["rps"] / base["rps"] if full and base else None


def _overhead_us(rows, scenario):
    full, direct = _find(rows, scenario, "axon", 1), _find(rows, scenario, "replica direct", 1)
    if not (full and direct):
        return None
    return (full["latency_ms"]["50"] - direct["latency_ms"]["50"]) * 1000


def _measured(rows, rss, cold):
    """(figure, value text, target text, met) for what the run measured."""
    out = []
    for scenario, goal in (("python-echo", 1.5), ("mlp-torchscript", 2.5)):
        r = _ratio(rows, scenario, "fastapi 2w", 64)
        if r is not None:
            out.append((f"{scenario} full path ÷ FastAPI 2 workers, 64 conns", f"{r:.2f}x",
                        f"≥ {goal}x", r >= goal))
    full = _find(rows, "python-echo", "axon", 64)
    if full and "gateway" in full["cpu_per_1k"]:
        us = full["cpu_per_1k"]["gateway"] * 1000
        out.append(("gateway CPU per request (python-echo, 64 conns)", f"{us:.1f} µs", "≤ 10 µs",
                    us <= 10))
    for scenario in ("python-echo", "mlp-torchscript"):
        us = _overhead_us(rows, scenario)
        if us is not None:
            out.append((f"gateway p50 overhead at 1 conn, {scenario} (full − direct)",
                        f"{us:.0f} µs", "≤ 35 µs", us <= 35))
    batched, plain = _find(rows, "mlp-batched", "axon", 1), _find(rows, "mlp-torchscript", "axon", 1)
    if batched and plain:
        b, p = batched["latency_ms"]["50"], plain["latency_ms"]["50"]
        out.append(("mlp-batched p50 at 1 conn", f"{b:.3f} ms (unbatched {p:.3f} ms, "
                    f"{(b / p - 1) * 100:+.0f}%)", "≤ unbatched + 10%", b <= p * 1.1))
    batched, plain = _find(rows, "mlp-batched", "axon", 128), _find(rows, "mlp-torchscript", "axon", 128)
    if batched and plain:
        r = batched["rps"] / plain["rps"]
        out.append(("mlp-batched ÷ mlp unbatched, full path, 128 conns", f"{r:.2f}x", "≥ 2x",
                    r >= 2))
    for api, label, goal_ms in (("mlp-torchscript", "native MLP", 500),
                                ("python-echo", "Python", 1500)):
        if api in cold:
            ms = cold[api]["median_ms"]
            out.append((f"scale from zero, first answer, {label} (median)", f"{ms:.0f} ms",
                        f"≤ {goal_ms / 1000:g} s", ms <= goal_ms))
    mlp = [mb for name, mb in rss.items() if name.startswith("replica mlp-torchscript")]
    if mlp:
        out.append(("replica peak RSS, TorchScript MLP", f"{max(mlp):.1f} MiB", "≤ 120 MiB",
                    max(mlp) <= 120))
    return out


def table(rows, rss, cold):
    """Markdown table; `cold` is harness.coldstart.summary()'s result."""
    lines = ["| figure | this run | target | met |", "|---|---:|---:|---|"]
    for figure, value, target, met in _measured(rows, rss, cold):
        lines.append(f"| {figure} | {value} | {target} | {'yes' if met else 'no'} |")
    return "\n".join(lines)
