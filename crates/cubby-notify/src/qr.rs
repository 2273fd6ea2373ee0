//! QR code as a PNG, with a minimal PNG encoder of our own.
//!
//! The image is 1-bit greyscale: one IHDR, one IDAT holding a zlib stream of
//! stored (uncompressed) deflate blocks, one IEND. A pick-up QR is a few
//! kilobytes this way, so compression would not be worth a dependency.

use qrcode::{Color, EcLevel, QrCode};

/// The eight bytes every PNG starts with.
pub const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1a, b'\n'];

/// Pixels per QR module.
const SCALE: usize = 8;
/// Quiet zone around the symbol, in modules (the standard asks for 4).
const QUIET: usize = 4;

/// Encodes `payload` as a QR code (error correction M) and returns the PNG
/// bytes. `None` if the payload does not fit in a QR code.
pub fn qr_png(payload: &str) -> Option<Vec<u8>> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET) * SCALE;
    let dark = |x: usize, y: usize| -> bool {
        let (mx, my) = (x / SCALE, y / SCALE);
        if mx < QUIET || my < QUIET || mx >= QUIET + modules || my >= QUIET + modules {
            return false;
        }
        colors[(my - QUIET) * modules + (mx - QUIET)] == Color::Dark
    };
    let mut bits = Vec::with_capacity(side * side);
    for y in 0..side {
        for x in 0..side {
            bits.push(dark(x, y));
        }
    }
    encode_bilevel_png(side, side, &bits)
}

/// Encodes `payload` as a QR code (error correction M) drawn as an SVG
/// document: one path of dark modules, with the quiet zone, scaling to its
/// box. For pages (no image file, nothing to fetch). `None` if the payload
/// does not fit in a QR code.
pub fn qr_svg(payload: &str, label: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M).ok()?;
    let modules = code.width();
    let colors = code.to_colors();
    let side = modules + 2 * QUIET;
    let mut path = String::new();
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % modules + QUIET, i / modules + QUIET);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    let label: String = label
        .chars()
        .filter(|c| c.is_alphanumeric() || " -:.,".contains(*c))
        .collect();
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// Encodes a black-and-white image (`true` = black), row-major, as a 1-bit
/// greyscale PNG. `None` if `pixels` does not hold `width * height` values or
/// a dimension is zero or too large.
pub fn encode_bilevel_png(width: usize, height: usize, pixels: &[bool]) -> Option<Vec<u8>> {
    if width == 0 || height == 0 || pixels.len() != width.checked_mul(height)? {
        return None;
    }
    let w32 = u32::try_from(width).ok()?;
    let h32 = u32::try_from(height).ok()?;
    let row_bytes = width.div_ceil(8);
    // Scanlines: filter byte 0 (None), then the packed bits, MSB first;
    // in 1-bit greyscale 0 is black and 1 is white.
    let mut raw = Vec::with_capacity(height * (row_bytes + 1));
    for row in pixels.chunks(width) {
        raw.push(0u8);
        let start = raw.len();
        raw.resize(start + row_bytes, 0xff);
        for (x, &black) in row.iter().enumerate() {
            if black {
                raw[start + x / 8] &= !(0x80 >> (x % 8));
            }
        }
    }

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&w32.to_be_bytes());
    ihdr.extend_from_slice(&h32.to_be_bytes());
    ihdr.extend_from_slice(&[1, 0, 0, 0, 0]); // depth 1, greyscale, deflate, filter 0, no interlace

    let mut png = Vec::with_capacity(raw.len() + raw.len() / 65535 * 5 + 64);
    png.extend_from_slice(&PNG_SIGNATURE);
    write_chunk(&mut png, b"IHDR", &ihdr);
    write_chunk(&mut png, b"IDAT", &zlib_stored(&raw));
    write_chunk(&mut png, b"IEND", &[]);
    Some(png)
}

fn write_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    // Chunk data here is always far below 2^31 bytes (PNG's limit).
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let crc_start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[crc_start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951 §3.2.4).
pub fn zlib_stored(data: &[u8]) -> Vec<u8> {
    const MAX_BLOCK: usize = 65_535;
    let mut out = Vec::with_capacity(data.len() + data.len() / MAX_BLOCK * 5 + 11);
    // CMF: deflate, 32 KiB window; FLG: no dictionary, fastest, check bits
    // so that (CMF * 256 + FLG) % 31 == 0.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut blocks = data.chunks(MAX_BLOCK).peekable();
    if blocks.peek().is_none() {
        // An empty final stored block.
        out.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        out.push(u8::from(last)); // BFINAL, BTYPE = 00 (stored)
        let len = block.len() as u16; // chunks() keeps this <= 65535
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&adler32(data).to_be_bytes());
    out
}

/// Adler-32 (RFC 1950).
pub fn adler32(data: &[u8]) -> u32 {
    const MOD: u32 = 65_521;
    // 5552 is the largest n with 255 n (n + 1) / 2 + (n + 1)(MOD - 1) < 2^32.
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= MOD;
        b %= MOD;
    }
    (b << 16) | a
}

const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut n = 0;
    while n < 256 {
        let mut c = n as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xedb8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[n] = c;
        n += 1;
    }
    table
};

/// CRC-32 as used by PNG (ISO 3309 / ITU-T V.42, reflected, poly 0xEDB88320).
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &byte in data {
        c = CRC_TABLE[((c ^ u32::from(byte)) & 0xff) as usize] ^ (c >> 8);
    }
    c ^ 0xffff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(crc32(b""), 0);
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b""), 1);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        let big = vec![0xffu8; 100_000];
        // Reference: computed without the chunked modulo, in u64.
        let (mut a, mut b) = (1u64, 0u64);
        for &x in &big {
            a = (a + u64::from(x)) % 65_521;
            b = (b + a) % 65_521;
        }
        assert_eq!(adler32(&big), ((b << 16) | a) as u32);
    }

    #[test]
    fn zlib_stored_layout() {
        let z = zlib_stored(b"abc");
        assert_eq!(&z[..2], &[0x78, 0x01]);
        assert_eq!((0x78u32 * 256 + 0x01) % 31, 0);
        assert_eq!(&z[2..7], &[0x01, 3, 0, 0xfc, 0xff]);
        assert_eq!(&z[7..10], b"abc");
        assert_eq!(&z[10..], &adler32(b"abc").to_be_bytes());
        // Multi-block: two blocks, only the last marked final.
        let data = vec![7u8; 70_000];
        let z = zlib_stored(&data);
        assert_eq!(z[2], 0);
        assert_eq!(z.len(), 2 + 5 + 65_535 + 5 + (70_000 - 65_535) + 4);
        assert_eq!(z[2 + 5 + 65_535], 1);
        assert_eq!(zlib_stored(&[]).len(), 2 + 5 + 4);
    }

    #[test]
    fn png_structure() {
        let png = qr_png("cubby:token:0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(&png[..8], &PNG_SIGNATURE);
        assert_eq!(&png[12..16], b"IHDR");
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap()) as usize;
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap()) as usize;
        assert_eq!(w, h);
        assert_eq!(w % SCALE, 0);
        assert_eq!(png[24], 1); // bit depth
        assert_eq!(png[25], 0); // greyscale
        // Walk the chunks, checking every CRC.
        let mut i = 8;
        let mut kinds = Vec::new();
        while i < png.len() {
            let len = u32::from_be_bytes(png[i..i + 4].try_into().unwrap()) as usize;
            let body = &png[i + 4..i + 8 + len];
            let crc = u32::from_be_bytes(png[i + 8 + len..i + 12 + len].try_into().unwrap());
            assert_eq!(crc32(body), crc);
            kinds.push(String::from_utf8(body[..4].to_vec()).unwrap());
            i += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    }

    #[test]
    fn bilevel_rejects_bad_sizes() {
        assert!(encode_bilevel_png(0, 1, &[]).is_none());
        assert!(encode_bilevel_png(2, 2, &[true]).is_none());
        let png = encode_bilevel_png(9, 1, &[true; 9]).unwrap();
        // Raw scanline: filter 0, then 0x00 (8 black), 0x7f (1 black + 7 padding white).
        let idat_data_start = 8 + 25 + 8;
        assert_eq!(
            &png[idat_data_start + 7..idat_data_start + 10],
            &[0, 0x00, 0x7f]
        );
    }
}
