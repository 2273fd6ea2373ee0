//! Packet integrity checks: CRC-16 and the 8-bit checksum.

/// CRC-16 as used by OSDP (CRC-16/AUG-CCITT): polynomial 0x1021, initial
/// value 0x1D0F, no reflection, no final XOR. Transmitted LSB first.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0x1D0F;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The OSDP 8-bit checksum: the two's complement of the byte sum, so that the
/// sum of all bytes including the checksum is zero modulo 256.
pub fn checksum(data: &[u8]) -> u8 {
    let sum = data.iter().fold(0u8, |acc, &b| acc.wrapping_add(b));
    0u8.wrapping_sub(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_aug_ccitt_check_value() {
        // The catalogued check value of CRC-16/AUG-CCITT.
        assert_eq!(crc16(b"123456789"), 0xE5CC);
        assert_eq!(crc16(b""), 0x1D0F);
    }

    #[test]
    fn checksum_sums_to_zero() {
        let data = [0x53, 0x00, 0x07, 0x00, 0x00, 0x60];
        let c = checksum(&data);
        let total = data.iter().fold(c, |acc, &b| acc.wrapping_add(b));
        assert_eq!(total, 0);
        assert_eq!(c, 0x100u16.wrapping_sub(0x53 + 0x07 + 0x60) as u8);
    }
}
