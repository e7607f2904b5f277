#!/usr/bin/env python3
"""Turns profiler samples into folded stacks and a flame graph (SVG).

Usage: bench/flame.py jfr|jfr-native|perf INPUT OUT_PREFIX [TITLE]
  jfr         INPUT is a JFR recording: its jdk.ExecutionSample events (threads running Java code;
              time inside system calls is not in these samples). Needs the JDK's `jfr` tool.
  jfr-native  the recording's jdk.NativeMethodSample events instead: threads inside native code,
              in a system call or blocked waiting in one.
  perf        INPUT is a `perf record -g` file: every CPU sample, kernel included (Java frames are
              named when the JVM wrote /tmp/perf-PID.map, e.g. with -XX:+DumpPerfMapAtExit).
Writes OUT_PREFIX.folded ("thread;outer;...;inner count" lines, the format flamegraph tools read)
and OUT_PREFIX.svg, and prints the innermost frames with the largest shares.
"""
import collections, html, json, subprocess, sys, zlib

def folded_stacks(recording, event):
    out = subprocess.run(["jfr", "print", "--json", "--stack-depth", "96", "--events", event, recording],
                         check=True, capture_output=True, text=True).stdout
    counts = collections.Counter()
    for event in json.loads(out)["recording"]["events"]:
        values = event["values"]
        thread = (values.get("sampledThread") or {}).get("javaName") or "?"
        frames = (values.get("stackTrace") or {}).get("frames") or []
        names = [thread]
        for f in reversed(frames):  # JFR lists the innermost frame first
            m = f["method"]
            cls = m["type"]["name"].replace("/", ".")
            names.append(f"{cls}.{m['name']}".replace(";", ":").replace(" ", "_"))
        counts[";".join(names)] += 1
    return counts

def perf_folded_stacks(data):
    out = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym"], check=True, capture_output=True,
                         text=True, errors="replace").stdout
    counts = collections.Counter()
    for sample in out.split("\n\n"):
        lines = [l for l in sample.split("\n") if l.strip()]
        if not lines:
            continue
        names = [lines[0].strip()]
        for frame in reversed(lines[1:]):  # perf lists the innermost frame first
            parts = frame.strip().split(None, 1)
            name = parts[1] if len(parts) > 1 else parts[0]
            name = name.split("(")[0].strip() if name.startswith(("void ", "int ", "long ", "boolean ")) else name
            names.append(name.replace(";", ":").replace(" ", "_") or "?")
        counts[";".join(names)] += 1
    return counts

def flame_svg(counts, title, event, width=1200, row=16):
    root = {"n": 0, "c": {}}
    for stack, n in counts.items():
        node = root
        node["n"] += n
        for name in stack.split(";"):
            node = node["c"].setdefault(name, {"n": 0, "c": {}})
            node["n"] += n
    total = max(root["n"], 1)
    rects, depth_max = [], 0

    def walk(node, name, x, depth):
        nonlocal depth_max
        depth_max = max(depth_max, depth)
        w = node["n"] / total * (width - 20)
        if w >= 0.3:
            rects.append((name, x, depth, w, node["n"]))
        cx = x
        for child_name, child in sorted(node["c"].items()):
            walk(child, child_name, cx, depth + 1)
            cx += child["n"] / total * (width - 20)

    walk(root, "all", 10, 0)
    height = (depth_max + 1) * row + 60
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#f8f8f8"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
           f'<text x="10" y="{height - 8}">{total} samples ({event}); width = share of samples, innermost frame on top</text>']
    for name, x, depth, w, n in rects:
        y = height - 30 - (depth + 1) * row
        h = zlib.crc32(name.split(".")[-1].encode()) & 0xffff
        hot = name.startswith("dev.slipway")
        color = f"rgb({205 + h % 50},{(80 + h % 110) if not hot else 140 + h % 60},{(30 + h % 40) if not hot else 40})"
        label = name if name.count(".") < 2 else ".".join(name.split(".")[-2:])
        chars = int((w - 4) / 6.6)
        text = label if len(label) <= chars else (label[:max(chars - 2, 0)] + ".." if chars > 3 else "")
        svg.append(f'<g><title>{html.escape(name)}: {n} samples, {100 * n / total:.1f} %</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="{color}" rx="2"/>'
                   + (f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(text)}</text>' if text else "") + '</g>')
    svg.append("</svg>")
    return "\n".join(svg)

def main():
    mode, source, prefix = sys.argv[1:4]
    title = sys.argv[4] if len(sys.argv) > 4 else source
    if mode == "perf":
        event = "perf cpu-clock, kernel included"
        counts = perf_folded_stacks(source)
    else:
        event = "jdk.NativeMethodSample" if mode == "jfr-native" else "jdk.ExecutionSample"
        counts = folded_stacks(source, event)
    with open(prefix + ".folded", "w") as f:
        for stack, n in sorted(counts.items()):
            f.write(f"{stack} {n}\n")
    with open(prefix + ".svg", "w") as f:
        f.write(flame_svg(counts, title, event))
    # the methods that were running when sampled (self time), for the README
    self_time = collections.Counter()
    for stack, n in counts.items():
        self_time[stack.split(";")[-1]] += n
    total = sum(counts.values()) or 1
    print(f"{prefix}: {total} samples of {event}; innermost frames:")
    for name, n in self_time.most_common(12):
        print(f"  {100 * n / total:5.1f} %  {name}")

if __name__ == "__main__":
    main()
