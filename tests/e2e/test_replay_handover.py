# SPDX-License-Identifier: BSD-3-Clause
"""Anti-replay handover from a live kernel SA, end to end.

rxsec reads SAs in the dump syntax `ip xfrm state` prints; a live SA's dump
carries its anti-replay state, which rxsec must import so that taking the SA
over does not accept replays of packets the kernel already delivered. This
test writes its own dump files (the layout of ../shared/linux-xfrm/dumps,
ESP tunnel AES-GCM-128) with chosen seq / seq-hi / bitmap values, sends ESP
packets built by scapy's IPsec (tests/vectors/rxsec_vectors.py) and checks
every verdict against the test's own model of the kernel's two layouts:

  word  `anti-replay context: seq S, oseq O, bitmap B` (xfrm_replay_state,
        non-ESN windows up to 32): bit i of B is number S - i;
  ring  `anti-replay esn context:` (xfrm_replay_state_esn; every ESN SA and
        non-ESN windows over 32): top = seq-hi << 32 | seq, number n is bit
        pos = ((n mod 2^32) - 1) mod replay_window (u32 arithmetic) of the
        words bmp[0], bmp[1], ..., pos in word pos >> 5, bit pos & 31.

The marked numbers within the window below and at the top are replays,
unmarked ones in the window (the top too, when its bit is clear, as Linux's
xfrm_replay_check has it) are accepted, those a window or more below are
below_window, higher ones move the window. `--replay-window N` overrides
every SA's window: marks are then kept within the smaller window only.
`ip xfrm state add ... replay-seq N [replay-seq-hi H]` sets the top alone,
with nothing marked received (README, "An SA can be taken over ...").
TOP_RECEIVED below switches the model to "the top always counts as
received", the rule before commit 1c8f25a.

Every run must exit 0 with every mbuf home, and deliver exactly the frames
the model accepts (the inner packets, byte for byte, in receive order).
RXSEC names the binary (as for the other e2e tests); RXSEC_KEEP=1 keeps the
work directories.
"""
import os
import random

import issue4_lib as L
from issue4_lib import check as _check, finish, workdir

import rxsec_vectors as V
from scapy.all import raw

# The imported top is a replay only when the bitmap marks it (as in Linux:
# a dump of a live SA always marks it; replay-seq alone marks nothing).
TOP_RECEIVED = False

B32 = 1 << 32
M32 = B32 - 1

checks = [0]


def check(cond, what):
    checks[0] += 1
    return _check(cond, what)


# ---------------------------------------------------------------------------
# The model: the kernel's two bitmap layouts and an RFC 4303 receiver.
# Written from the layout descriptions above, not from rxsec's code.
# ---------------------------------------------------------------------------

def ring_pos(n, window):
    """The bit of number n in the ESN context's ring (xfrm_replay_advance_bmp:
    pos = (seq - 1) % replay_window on the low 32 bits, in u32)."""
    return (((n & M32) - 1) & M32) % window


def word_encode(top, marks):
    """The one-line context's bitmap word: bit i = top - i received."""
    w = 0
    for n in marks:
        d = top - n
        assert 0 <= d < 32, (top, n)
        w |= 1 << d
    return w


def word_decode(top, word):
    return {top - i for i in range(32) if word >> i & 1 and top - i >= 1}


def ring_encode(window, top, marks):
    """The esn context's words for a window whose top is `top`."""
    words = [0] * ((window + 31) // 32)
    for n in marks:
        assert 0 <= top - n < window, (top, n)
        p = ring_pos(n, window)
        words[p >> 5] |= 1 << (p & 31)
    return words


def ring_decode(window, top, words):
    """Every number in the window below and at top whose ring bit is set."""
    seen = set()
    for d in range(window):
        n = top - d
        if n < 1:
            break
        p = ring_pos(n, window)
        if words[p >> 5] >> (p & 31) & 1:
            seen.add(n)
    return seen


class Receiver:
    """An RFC 4303 3.4.3 / A2.1 receive window started from an imported state:
    top, the effective window and the numbers marked received."""

    def __init__(self, window, esn, top, marks):
        self.w, self.esn, self.top = window, esn, top
        # marks a window or more below the top are gone
        if TOP_RECEIVED and top:
            marks = marks | {top}
        self.seen = {n for n in marks if top - n < window}

    def number(self, lo):
        """The 64-bit number a received low half stands for (RFC 4303 A2.1)."""
        if not self.esn:
            return lo
        th, tl, w = self.top >> 32, self.top & M32, self.w
        if tl >= w - 1:
            hi = th if lo >= tl - w + 1 else th + 1
        else:
            hi = th - 1 if lo >= ((tl - w + 1) & M32) else th
        return (hi << 32) | lo

    def receive(self, n):
        if n == 0:
            return 'seq_zero'
        if n > self.top:
            self.top = n
            self.seen.add(n)
            return 'ok'
        if self.top - n >= self.w:
            return 'below_window'
        if n in self.seen:
            return 'replay'
        self.seen.add(n)
        return 'ok'


# ---------------------------------------------------------------------------
# SA files: the dump layout of ../shared/linux-xfrm/dumps (esp_tun4_aesgcm128
# for the one-line context, esp_tun4_aesgcm128_esn64 / _w64 for the esn one)
# ---------------------------------------------------------------------------

RNG = random.Random('rxsec:replay-handover')
REQID = [200]


class HSa:
    """An inbound ESP tunnel SA (AES-GCM-128, ICV 128) with an imported
    anti-replay state; `form` is 'word', 'ring' or 'add'."""

    def __init__(self, spi, form, window, esn=False, top=0, marks=(), words=None,
                 word=None):
        REQID[0] += 1
        self.spi, self.form, self.window, self.esn, self.top = spi, form, window, esn, top
        self.reqid = REQID[0]
        self.v = V.Sa(RNG, spi, enc='aes128gcm16', window=window, esn=esn, reqid=self.reqid)
        self.marks = set(marks)
        if form == 'word':
            assert not esn and window <= 32
            self.word = word_encode(top, self.marks) if word is None else word
        elif form == 'ring':
            self.words = ring_encode(window, top, self.marks) if words is None else words

    def imported(self, window_override=None):
        """What the model says the receiver starts from: (window, marks)."""
        w = self.window if window_override is None else window_override
        if self.form == 'word':
            marks = word_decode(self.top, self.word)
        elif self.form == 'ring':
            marks = ring_decode(self.window, self.top, self.words)
        else:
            marks = set()
        return w, {n for n in marks if self.top - n < min(w, self.window)}

    def dump(self):
        src, dst = V.OUTER[4]
        key = '0x' + self.v.enc_key.hex()
        lines = ['src %s dst %s' % (src, dst),
                 '\tproto esp spi 0x%08x reqid %d mode tunnel' % (self.spi, self.reqid)]
        if self.form == 'word':
            lines += ['\treplay-window %d ' % self.window,
                      '\taead rfc4106(gcm(aes)) %s 128' % key,
                      '\tanti-replay context: seq 0x%x, oseq 0x0, bitmap 0x%08x'
                      % (self.top, self.word)]
        else:
            lines += ['\treplay-window 0 %s' % ('flag esn' if self.esn else ''),
                      '\taead rfc4106(gcm(aes)) %s 128' % key,
                      '\tanti-replay esn context:',
                      '\t seq-hi 0x%x, seq 0x%x, oseq-hi 0x0, oseq 0x0'
                      % (self.top >> 32, self.top & M32),
                      '\t replay_window %d, bitmap-length %d' % (self.window, len(self.words))]
            for i in range(0, len(self.words), 8):
                lines.append('\t ' + ''.join('%08x ' % w for w in self.words[i:i + 8]))
        lines.append('\tsel src 0.0.0.0/0 dst 0.0.0.0/0 ')
        return '\n'.join(lines) + '\n'

    def add_line(self):
        src, dst = V.OUTER[4]
        w = ['ip xfrm state add src %s dst %s proto esp spi 0x%08x reqid %d mode tunnel'
             % (src, dst, self.spi, self.reqid), 'replay-window %d' % self.window]
        if self.esn:
            w.append('flag esn')
        w.append('replay-seq 0x%x' % (self.top & M32))
        if self.top >> 32:
            w.append('replay-seq-hi 0x%x' % (self.top >> 32))
        w.append('aead "rfc4106(gcm(aes))" 0x%s 128' % self.v.enc_key.hex())
        return ' '.join(w) + '\n'


def outbound_block(spi, reqid, oseq):
    """The paired outbound SA a real dump prints first (B->A): its context
    carries only oseq; it must change nothing inbound."""
    src, dst = V.OUTER[4]
    key = '0x' + bytes(RNG.getrandbits(8) for _ in range(20)).hex()
    return '\n'.join([
        'src %s dst %s' % (dst, src),
        '\tproto esp spi 0x%08x reqid %d mode tunnel' % (spi, reqid),
        '\treplay-window 32 ',
        '\taead rfc4106(gcm(aes)) %s 128' % key,
        '\tanti-replay context: seq 0x0, oseq 0x%x, bitmap 0x00000000' % oseq,
        '\tsel src 0.0.0.0/0 dst 0.0.0.0/0 ']) + '\n'


# ---------------------------------------------------------------------------
# Traffic: a scenario is an SA, the low halves it sends, and optionally the
# verdicts the brief states for them (checked against the model too).
# ---------------------------------------------------------------------------

class Scenario:
    def __init__(self, name, sa, sends, stated=None):
        self.name, self.sa, self.sends, self.stated = name, sa, sends, stated


def build_run(scenarios, override):
    """Frames for every scenario in turn, with the model's expectation for
    each: (frame, spi, reason, delivered frame or None, scenario, lo)."""
    out = []
    for sc in scenarios:
        w, marks = sc.sa.imported(override)
        rx = Receiver(w, sc.sa.esn, sc.sa.top, marks)
        reasons = []
        for lo in sc.sends:
            n = rx.number(lo)
            reason = rx.receive(n)
            reasons.append(reason)
            tag = '%s %s n=0x%x' % (sc.name, sc.sa.form, n)
            pkt = V.freeze(V.udp_packet(4, V.INNER[4][0], V.INNER[4][1], 40, tag,
                                        ipid=0x100 + len(out)))
            iv = bytes(RNG.getrandbits(8) for _ in range(8))
            ssa = sc.sa.v.scapy_sa(lo)
            ipb = raw(ssa.encrypt(pkt, seq_num=lo, iv=iv, esn_en=sc.sa.esn, esn=n >> 32))
            out.append((V.eth(ipb), sc.sa.spi, reason,
                        V.eth(raw(pkt)) if reason == 'ok' else None, sc, lo))
        if sc.stated is not None:
            check(reasons == sc.stated,
                  'model: %s gives the stated verdicts %s%s' % (
                      sc.name, sc.stated, '' if reasons == sc.stated else ' (model: %s)' % reasons))
    return out


def run_rxsec(name, scenarios, override=None, add_sas=()):
    wd = workdir('handover-' + name)
    dump_sas = [sc.sa for sc in scenarios if sc.sa.form != 'add']
    add = [sc.sa for sc in scenarios if sc.sa.form == 'add']
    entries = build_run(scenarios, override)
    files = []
    if dump_sas:
        text = ''
        if name == 'main':   # a real dump: the outbound SA first, then the inbound ones
            text += outbound_block(0x7f000001, dump_sas[0].reqid, 0x2a)
        text += ''.join(s.dump() for s in dump_sas)
        files.append(os.path.join(wd, 'sa.dump'))
        with open(files[-1], 'w') as f:
            f.write(text)
    if add:
        files.append(os.path.join(wd, 'sa.add'))
        with open(files[-1], 'w') as f:
            f.write(''.join(s.add_line() for s in add))
    args = [] if override is None else ['--replay-window', str(override)]
    rc, out, verdicts, delivered = L.run_files(wd, files, [e[0] for e in entries], args=args,
                                               prefix='rh%d%s' % (os.getpid(), name))

    label = 'run %s%s' % (name, '' if override is None else ' --replay-window %d' % override)
    check(rc == 0, '%s: exit status 0 (got %d; %s)' % (label, rc, wd))
    check('mbufs: all' in out, '%s: every mbuf home (mbufs: all)' % label)
    check(len(verdicts) == len(entries),
          '%s: one verdict per frame (%d/%d)' % (label, len(verdicts), len(entries)))
    by_n = {v['n']: v for v in verdicts}
    for sc in scenarios:
        for i, (frame, spi, reason, _d, esc, lo) in enumerate(entries):
            if esc is not sc:
                continue
            want = ('deliver', 'ok') if reason == 'ok' else ('drop', reason)
            v = by_n.get(i)
            got = (v['verdict'], v['reason']) if v else None
            check(v is not None and got == want and v['spi'] == '0x%08x' % spi,
                  '%s: %s seq 0x%x -> %s %s%s' % (
                      label, sc.name, lo, want[0], want[1],
                      '' if got == want else ' (rxsec: %s)' % (got,)))
    want_out = [e[3] for e in entries if e[3] is not None]
    n_deliver = sum(1 for v in verdicts if v['verdict'] == 'deliver')
    check(len(delivered) == n_deliver == len(want_out),
          '%s: frames in the output pcap = deliver verdicts = model accepts (%d/%d/%d)'
          % (label, len(delivered), n_deliver, len(want_out)))
    check(delivered == want_out,
          '%s: delivered frames are the accepted inner packets, in order' % label)


# ---------------------------------------------------------------------------
# Scenarios
# ---------------------------------------------------------------------------

R, K, BW = 'replay', 'ok', 'below_window'
T = R if TOP_RECEIVED else K     # an imported top its bitmap does not mark


def scenarios(prefix):
    """Fresh SAs (new SPIs) for one run."""
    base = prefix << 8
    s = {}
    # 1. one-line context, window 32: seq 0x10, bitmap 0x5 (0x10 and 0x0e).
    # Every number 1..0x10 is inside a 32-wide window below 0x10 (0x10 - 32
    # is negative), so below_window is shown after a jump: 0x31 is accepted
    # and 0x11 = 0x31 - 32, accepted before, then falls below the window.
    s[1] = Scenario('1 word w32 seq 0x10 bitmap 0x5',
                    HSa(base + 1, 'word', 32, top=0x10, word=0x00000005),
                    [0x10, 0x0e, 0x0f, 0x0d, 0x11, 0x11, 0x31, 0x31 - 32],
                    [R, R, K, K, K, R, K, BW])
    # 2. esn context, flag esn, window 64 straddling 2^32
    top2 = (1 << 32) | 5
    s[2] = Scenario('2 ring esn w64 seq-hi 0x1 seq 0x5',
                    HSa(base + 2, 'ring', 64, esn=True, top=top2,
                        marks=[top2, top2 - 2, B32 - 1]),
                    [5, 3, 4, 0xffffffff, 0xfffffffe, 6],
                    [R, R, K, R, K, K])
    # 3. non-ESN window 128 (esn block, replay-window 0, no flag esn)
    t3 = 0x200
    m3 = [t3, t3 - 1, t3 - 5, t3 - 64, t3 - 100, t3 - 127]
    s[3] = Scenario('3 ring non-esn w128 seq 0x200',
                    HSa(base + 3, 'ring', 128, top=t3, marks=m3),
                    [t3 - 100, t3 - 99, t3 - 101, t3 - 1, t3 - 2, t3 - 5, t3 - 4, t3 - 6,
                     t3 - 64, t3 - 63, t3 - 65, t3 - 127, t3 - 126, t3 - 128, t3, t3 + 1],
                    [R, K, K, R, K, R, K, K, R, K, K, R, K, BW, R, K])
    # 4. seq 0x40 with an all-zero bitmap: nothing marked, the top not
    # either (accepted once, then a replay); the window still stands at
    # 0x40 (0x20 = 0x40 - 32 is below it)
    s[4] = Scenario('4 word w32 seq 0x40 bitmap 0',
                    HSa(base + 4, 'word', 32, top=0x40, word=0),
                    [0x40, 0x40, 0x3f, 0x20], [T, R, K, BW])
    s['4b'] = Scenario('4b ring esn w64 seq 0x40 zero words',
                       HSa(base + 5, 'ring', 64, esn=True, top=0x40, marks=[]),
                       [0x40, 0x40, 0x3f, 0x01], [T, R, K, K])
    # 5. ip xfrm state add with replay-seq (and replay-seq-hi, ESN): the top
    # alone, nothing marked
    s[5] = Scenario('5 add replay-seq 0x20',
                    HSa(base + 6, 'add', 32, top=0x20),
                    [0x20, 0x20, 0x1f, 0x21], [T, R, K, K])
    s['5b'] = Scenario('5b add esn replay-seq-hi 0x1 replay-seq 0x2',
                       HSa(base + 7, 'add', 64, esn=True, top=(1 << 32) | 2),
                       [2, 2, 1, 0xfffffff0, 3], [T, R, K, K, K])
    s['5c'] = Scenario('5c add replay-seq 0x100',
                       HSa(base + 8, 'add', 32, top=0x100),
                       [0x100 - 32, 0x100 - 31, 0x100], [BW, K, T])
    return s


def main():
    main_sc = scenarios(0x71)
    run_rxsec('main', [main_sc[k] for k in (1, 2, 3, 4, '4b', 5, '5b', '5c')])

    # 6. scenario 1's SA with --replay-window 8: marks kept within 8
    s6 = scenarios(0x72)[1]
    s6 = Scenario('6 word w32 --replay-window 8', s6.sa, [0x0e, 0x10, 0x08, 0x0f],
                  [R, R, BW, K])
    run_rxsec('w8', [s6], override=8)

    # 7. scenario 3's SA with a smaller override: marks beyond 64 are gone
    s7 = scenarios(0x73)[3]
    t3 = s7.sa.top
    s7 = Scenario('7 ring w128 --replay-window 64', s7.sa,
                  [t3 - 1, t3 - 5, t3 - 63, t3 - 64, t3 - 100, t3 - 2, t3],
                  [R, R, K, BW, BW, K, R])
    run_rxsec('w64', [s7], override=64)

    # 8. ... and a larger one: the ring covers only its own 128, so a
    # number 128 below the top (whose ring bit is the top's) is not marked
    s8 = scenarios(0x74)[3]
    s8 = Scenario('8 ring w128 --replay-window 256', s8.sa,
                  [t3 - 100, t3 - 127, t3 - 128, t3 - 129, t3 - 200, t3 - 255, t3 - 256, t3],
                  [R, R, K, K, K, K, BW, R])
    run_rxsec('w256', [s8], override=256)

    # The model against the layout as documented (README of linux-xfrm and
    # rxsec): words 0000001d 40000000 at seq-hi 0x1 seq 0x5, window 64.
    got = ring_decode(64, (1 << 32) | 5, [0x1d, 0x40000000])
    want = {(1 << 32) | 1, (1 << 32) | 3, (1 << 32) | 4, (1 << 32) | 5, 0xffffffff}
    check(got == want, 'model: ring words 0000001d 40000000 at 0x1_00000005 decode to '
          '0x1_00000001, 3, 4, 5 and 0x0_ffffffff%s' % (
              '' if got == want else ' (model: %s)' % sorted(hex(n) for n in got)))

    print('replay handover: %d checks, %d failed' % (checks[0], len(L.failures)))
    finish()


main()
