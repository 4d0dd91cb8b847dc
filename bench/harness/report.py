"""Writes a bench run as a Markdown report and a PNG chart (gnuplot)."""
import os
import pathlib
import platform
import subprocess


def machine():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": model, "kernel": platform.release()}


def find(rows, scenario, path_prefix, conns):
    """The row of `scenario` on a path starting with `path_prefix` at `conns` connections."""
    for r in rows:
        if r["scenario"] == scenario and r["path"].startswith(path_prefix) and r["conns"] == conns:
            return r
    return None


def _fmt(value, digits=2):
    return "-" if value is None else f"{value:,.{digits}f}"


def results_table(rows):
    lines = ["| scenario | path | conns | req/s | p50 ms | p90 ms | p99 ms | errors | "
             "CPU s per 1000 req | context switches per req |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for r in rows:
        cpu = ", ".join(f"{k} {v:.3f}" for k, v in r["cpu_per_1k"].items()) or "-"
        switches = ", ".join(f"{k} {v:.2f}" for k, v in r.get("switches_per_req", {}).items())
        lat = r["latency_ms"]
        lines.append(f"| {r['scenario']} | {r['path']} | {r['conns'] or '-'} | "
                     f"{_fmt(r['rps'], 0)} | {_fmt(lat.get('50'), 3)} | {_fmt(lat.get('90'), 3)} | "
                     f"{_fmt(lat.get('99'), 3)} | {r['errors']} | {cpu} | {switches or '-'} |")
    return "\n".join(lines)


def chart(rows, conns, png):
    """Requests/s and p99 at `conns` connections, per scenario and path."""
    data = png.with_suffix(".dat")
    picked = [r for r in rows if r["conns"] == conns]
    with open(data, "w") as f:
        for r in picked:
            label = f"{r['scenario']}\\n{r['path']}"
            f.write(f"\"{label}\" {r['rps']:.1f} {r['latency_ms'].get('99', 0):.3f}\n")
    script = f"""
set terminal pngcairo size 1400,700 font ",9"
set output "{png}"
set multiplot layout 1,2 title "Axon bench, {conns} connections"
set style data histograms
set style fill solid 0.8
set xtics rotate by -45 scale 0
set grid ytics
set title "requests/s"
plot "{data}" using 2:xtic(1) notitle lc rgb "#3070b0"
set title "p99 latency (ms)"
plot "{data}" using 3:xtic(1) notitle lc rgb "#b05030"
unset multiplot
"""
    subprocess.run(["gnuplot"], input=script, text=True, check=True, timeout=60)
    data.unlink()


def write(path, rows, rss, summary, commands, title, sections=()):
    """`sections`: more (title, Markdown) parts, after the peak memory."""
    path = pathlib.Path(path)
    m = machine()
    parts = [f"# {title}", "",
             f"Machine: {m['cores']} cores, {m['cpu']}, Linux {m['kernel']}.", "",
             "Commands:", "", "```", *commands, "```", "",
             "## Summary", "", *[f"- {line}" for line in summary], "",
             "## Results", "", results_table(rows), "",
             "## Peak memory (VmHWM)", "",
             "| process | peak RSS MiB |", "|---|---:|",
             *[f"| {name} | {mb:.1f} |" for name, mb in rss.items()], ""]
    for heading, text in sections:
        parts += [f"## {heading}", "", text, ""]
    png = path.with_suffix(".png")
    conns = 64 if any(r["conns"] == 64 for r in rows) else max(r["conns"] or 0 for r in rows)
    chart(rows, conns, png)
    parts += [f"![requests/s and p99 at {conns} connections]({png.name})", ""]
    path.write_text("\n".join(parts))
    return path, png
