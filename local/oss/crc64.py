"""CRC-64/XZ (ECMA-182 polynomial, reflected, init and xorout all ones), the `x-oss-hash-crc64ecma` OSS returns.

Parameters from the CRC catalogue (https://reveng.sourceforge.io/crc-catalogue/17plus.htm#crc.cat.crc-64-xz);
crcmod's C extension does the arithmetic (crcmod counts the init after the xor, hence initCrc=0)."""

import crcmod

_crc64 = crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, rev=True, xorOut=0xFFFFFFFFFFFFFFFF)


class Crc64:
    def __init__(self):
        self.value = 0

    def update(self, data):
        self.value = _crc64(data, self.value)


def crc64(data):
    return _crc64(data)
