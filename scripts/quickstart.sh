#!/usr/bin/env bash
# Quick start: set up, build, and run rxsec on the bundled sample traffic.
# config/sample/in.pcap (wire) -> rxsec -> out/sample/out.pcap (delivered),
# out/sample/verdicts.jsonl (one line per packet); counters per SA and per
# reason are printed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build

mkdir -p out/sample
rm -f out/sample/out.pcap out/sample/verdicts.jsonl
build/app/rxsec --no-huge -m 512 --no-pci --file-prefix rxsec-quickstart -l 0 \
	--log-level=warning \
	--vdev net_pcap0,rx_pcap=config/sample/in.pcap,tx_pcap=out/sample/out.pcap \
	-- --sa config/sample/sa.conf --verdicts out/sample/verdicts.jsonl --idle-exit 300

echo
echo "quickstart: delivered frames in out/sample/out.pcap, verdicts in out/sample/verdicts.jsonl"
echo "quickstart: per-packet story:"
/usr/bin/python3 - out/sample/verdicts.jsonl config/sample/README.txt <<'PY'
import json, sys
notes = {}
for line in open(sys.argv[2]):
    if line[:1].isdigit():
        n, _, text = line.partition(" ")
        notes[int(n)] = text.strip()
for line in open(sys.argv[1]):
    v = json.loads(line)
    print(f'  #{v["n"]:<3} {v["spi"] or "-":<11} {v["crypto_status"]:<33} {v["verdict"]:<8} {v["reason"]:<26} {notes.get(v["n"], "")}')
PY
