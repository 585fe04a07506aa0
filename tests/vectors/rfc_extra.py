# SPDX-License-Identifier: BSD-3-Clause
"""IPsec transforms that scapy 2.5 (scapy.layers.ipsec) lacks, written with
python3-cryptography from the RFC packet formats.

Kept apart from rxsec_vectors.py on purpose: everything here is our own
reading of an RFC, not scapy's implementation, so a failure involving only
these algorithms may be a bug here as well as in rxsec. Each transform is
checked against the RFC's own test vectors in selftest() where the RFC has
them.

- AES-XCBC-MAC-96 (RFC 3566): exposed as a scapy AuthAlgo, so ESP/AH
  signing still goes through scapy's AuthAlgo.sign().
- HMAC-SHA-512-512: the untruncated SHA-512 digest as ICV, as scapy's
  AuthAlgo with icv_size 64.
- HMAC-SHA-256-96 (RFC 4868 allows only 128; Linux's `auth hmac(sha256)`
  default is 96): a scapy AuthAlgo with icv_size 12; the HMAC is scapy's.
- AES-GCM with an 8- or 12-byte ICV (RFC 4106 section 8.1): scapy 2.5's
  AESGCM path always emits the full 16-byte tag; a shorter ICV is the
  leading bytes of the tag (NIST SP 800-38D 5.2.1.2), so we cut it.
- AES-GMAC (RFC 4543, ENCR_NULL_AUTH_AES_GMAC): no scapy algorithm.
"""
import struct

from cryptography.hazmat.backends import default_backend
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC
from scapy.layers.ipsec import AuthAlgo


def _aes_ecb(key, block):
    enc = Cipher(algorithms.AES(key), modes.ECB(), default_backend()).encryptor()
    return enc.update(block) + enc.finalize()


def _xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


class XcbcMac:
    """AES-XCBC-MAC (RFC 3566 section 4) with the update/finalize interface
    scapy's AuthAlgo expects from a cryptography MAC object."""

    def __init__(self, key, _digestmod=None, _backend=None):
        if len(key) != 16:
            raise ValueError('AES-XCBC-MAC needs a 16-byte key')
        self.k1 = _aes_ecb(key, b'\x01' * 16)
        self.k2 = _aes_ecb(key, b'\x02' * 16)
        self.k3 = _aes_ecb(key, b'\x03' * 16)
        self.buf = b''

    def update(self, data):
        self.buf += bytes(data)

    def finalize(self):
        m = self.buf
        e = b'\x00' * 16
        nblocks = max(1, (len(m) + 15) // 16)
        for i in range(nblocks - 1):
            e = _aes_ecb(self.k1, _xor(m[16 * i:16 * i + 16], e))
        last = m[16 * (nblocks - 1):]
        if len(last) == 16:
            last = _xor(last, self.k2)
        else:
            last = last + b'\x80' + b'\x00' * (15 - len(last))
            last = _xor(last, self.k3)
        return _aes_ecb(self.k1, _xor(last, e))


def _no_digest():
    return None


AES_XCBC_96 = AuthAlgo('AES-XCBC-MAC-96', mac=XcbcMac, digestmod=_no_digest,
               icv_size=12, key_size=(16,))
HMAC_SHA256_96 = AuthAlgo('HMAC-SHA256-96', mac=HMAC, digestmod=hashes.SHA256,
              icv_size=12)

# `auth-trunc hmac(sha512) KEY 512`: the whole digest as the ICV (Linux
# takes any truncation up to icv_fullbits); scapy knows only 256.
HMAC_SHA512_512 = AuthAlgo('HMAC-SHA512-512', mac=HMAC, digestmod=hashes.SHA512,
               icv_size=64)


def gcm_truncate_esp(esp_bytes, icv_len):
    """Cut a full-tag (16-byte) rfc4106 ESP packet down to icv_len bytes."""
    return esp_bytes[:len(esp_bytes) - (16 - icv_len)]


def gcm_decrypt(key, salt, esp_bytes, icv_len, esn_hi=None):
    """RFC 4106 ESP decryption with any ICV length; returns the plaintext
    (payload | padding | pad length | next header) or raises."""
    spi_seq = esp_bytes[:8]
    iv = esp_bytes[8:16]
    ct = esp_bytes[16:len(esp_bytes) - icv_len]
    tag = esp_bytes[len(esp_bytes) - icv_len:]
    aad = spi_seq if esn_hi is None else spi_seq[:4] + struct.pack('!L', esn_hi) + spi_seq[4:]
    dec = Cipher(algorithms.AES(key), modes.GCM(salt + iv, tag, min_tag_length=icv_len),
             default_backend()).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(ct) + dec.finalize()


def gmac_esp(key, salt, spi, seq, iv, plaintext, esn_hi=None):
    """RFC 4543 section 3 (ENCR_NULL_AUTH_AES_GMAC): the payload stays in the
    clear; the AAD is SPI | [seq hi] | seq | IV | payload | padding | pad
    length | next header; the nonce is salt | IV; the ICV is the 16-byte GCM
    tag over an empty plaintext. plaintext is already padded."""
    hdr = struct.pack('!LL', spi, seq)
    aad = hdr if esn_hi is None else struct.pack('!LLL', spi, esn_hi, seq)
    tag = AESGCM(key).encrypt(salt + iv, b'', aad + iv + plaintext)
    return hdr + iv + plaintext + tag


def gmac_verify(key, salt, esp_bytes, esn_hi=None):
    spi, seq = struct.unpack('!LL', esp_bytes[:8])
    iv = esp_bytes[8:16]
    pt = esp_bytes[16:-16]
    return gmac_esp(key, salt, spi, seq, iv, pt, esn_hi) == esp_bytes


def selftest():
    # RFC 3566 section 4.6 test cases 1-3.
    key = bytes(range(16))
    vecs = [(b'', '75f0251d528ac01c4573dfd584d79f29'),
        (bytes(range(3)), '5b376580ae2f19afe7219ceef172756f'),
        (bytes(range(16)), 'd2a246fa349b68a79998a4394ff7a263'),
        (bytes(range(20)), '47f51b4564966215b8985c63055ed308'),
        (bytes(range(32)), 'f54f0ec8d2b9f3d36807734bd5283fd4')]
    for msg, want in vecs:
        m = XcbcMac(key)
        m.update(msg)
        got = m.finalize().hex()
        assert got == want, 'XCBC %d bytes: %s != %s' % (len(msg), got, want)
    return True


if __name__ == '__main__':
    selftest()
    print('rfc_extra selftest ok')
