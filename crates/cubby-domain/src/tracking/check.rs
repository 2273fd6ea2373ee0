//! Check-digit rules, one per published scheme. Each takes the whole normalised
//! number, check digit included, and answers false (never panics) for input of
//! the wrong length or character class, so a caller that skipped the shape test
//! gets a rejection rather than a crash.

/// The number's digits, or `None` if any character is not a decimal digit.
fn digits(s: &str) -> Option<Vec<u32>> {
    s.bytes()
        .map(|b| b.is_ascii_digit().then(|| u32::from(b - b'0')))
        .collect()
}

/// The digits split into the body and the final check digit.
fn body_and_check(s: &str, len: usize) -> Option<(Vec<u32>, u32)> {
    let mut d = digits(s)?;
    if d.len() != len {
        return None;
    }
    let check = d.pop()?;
    Some((d, check))
}

/// Sum of the body with weights 3, 1, 3, … starting at the digit next to the
/// check digit (the GS1 and Code 2 of 5 convention).
fn weighted_31_from_right(body: &[u32]) -> u32 {
    body.iter()
        .rev()
        .enumerate()
        .map(|(i, &v)| if i % 2 == 0 { 3 * v } else { v })
        .sum()
}

fn ten_complement(sum: u32) -> u32 {
    (10 - sum % 10) % 10
}

/// GS1 mod 10 (GTIN, SSCC, USPS IMpb, FedEx Ground), any length of two or more.
pub(super) fn gs1(s: &str) -> bool {
    let Some(mut d) = digits(s) else { return false };
    let Some(check) = d.pop() else { return false };
    !d.is_empty() && ten_complement(weighted_31_from_right(&d)) == check
}

/// UPU S10: weights 8 6 4 2 3 5 9 7 over the 8 serial digits, 11 − (sum mod 11),
/// with 10 written as 0 and 11 as 5.
pub(super) fn s10(s: &str) -> bool {
    const WEIGHTS: [u32; 8] = [8, 6, 4, 2, 3, 5, 9, 7];
    let Some((body, check)) = s.get(2..11).and_then(|d| body_and_check(d, 9)) else {
        return false;
    };
    let sum: u32 = body.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let expected = match 11 - sum % 11 {
        10 => 0,
        11 => 5,
        c => c,
    };
    expected == check
}

/// UPS 1Z: after "1Z", letters count as (ASCII − 63) mod 10; odd positions
/// from the left ×1, even ×2; the last character is the ten's complement.
pub(super) fn ups_1z(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !s.starts_with("1Z") {
        return false;
    }
    let value = |b: u8| -> Option<u32> {
        if b.is_ascii_digit() {
            Some(u32::from(b - b'0'))
        } else if b.is_ascii_uppercase() {
            Some((u32::from(b) - 63) % 10)
        } else {
            None
        }
    };
    let mut sum = 0;
    for (i, &c) in b[2..17].iter().enumerate() {
        let Some(v) = value(c) else { return false };
        sum += if i % 2 == 0 { v } else { 2 * v };
    }
    b[17].is_ascii_digit() && ten_complement(sum) == u32::from(b[17] - b'0')
}

/// DHL Express waybill: the first 9 digits, read as a number, mod 7.
pub(super) fn mod7(s: &str) -> bool {
    let Some((body, check)) = body_and_check(s, 10) else {
        return false;
    };
    let number = body.iter().fold(0u64, |n, &d| n * 10 + u64::from(d));
    number % 7 == u64::from(check)
}

/// Deutsche Post / DHL Paket Identcode: weights 4, 9, 4, … from the left over
/// 11 digits, ten's complement of the sum.
pub(super) fn identcode(s: &str) -> bool {
    let Some((body, check)) = body_and_check(s, 12) else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, &v)| if i % 2 == 0 { 4 * v } else { 9 * v })
        .sum();
    ten_complement(sum) == check
}

/// FedEx Express 12 digits: weights 1, 3, 7 repeating from the digit next to
/// the check digit, sum mod 11, with a remainder of 10 written as 0.
pub(super) fn fedex_express(s: &str) -> bool {
    const WEIGHTS: [u32; 3] = [1, 3, 7];
    let Some((body, check)) = body_and_check(s, 12) else {
        return false;
    };
    let sum: u32 = body
        .iter()
        .rev()
        .zip(WEIGHTS.iter().cycle())
        .map(|(d, w)| d * w)
        .sum();
    sum % 11 % 10 == check
}

/// GLS 12 digits: weights 3, 1 from the digit next to the check digit, plus 1,
/// then the ten's complement.
pub(super) fn gls(s: &str) -> bool {
    let Some((body, check)) = body_and_check(s, 12) else {
        return false;
    };
    ten_complement(weighted_31_from_right(&body) + 1) == check
}

/// USPS IMpb and the older 20-digit numbers. The check digit covers the
/// tracking part only, never the "420" + ZIP routing code in front of it, so
/// the long forms are checked from where the tracking part starts. 34 digits
/// are either ZIP+4 with a 22-digit tracking part or ZIP5 with a 26-digit one.
pub(super) fn impb(s: &str) -> bool {
    let tail = |from: usize| s.get(from..).is_some_and(gs1);
    match s.len() {
        // A 20-digit number was printed without the "91" application
        // identifier its barcode carries, and some issuers computed the check
        // digit with it, some without.
        20 => gs1(s) || gs1(&format!("91{s}")),
        22 | 26 => gs1(s),
        30 => s.starts_with("420") && tail(8),
        34 => s.starts_with("420") && (tail(12) || tail(8)),
        _ => false,
    }
}

/// ISO/IEC 7064 MOD 37,36 over 0–9 and A–Z (DPD): the last character is the
/// check character.
pub(super) fn iso7064_mod37_36(s: &str) -> bool {
    fn value(b: u8) -> Option<u32> {
        match b {
            b'0'..=b'9' => Some(u32::from(b - b'0')),
            b'A'..=b'Z' => Some(u32::from(b - b'A') + 10),
            _ => None,
        }
    }
    let Some((&last, body)) = s.as_bytes().split_last() else {
        return false;
    };
    if body.is_empty() {
        return false;
    }
    let mut p = 36;
    for &b in body {
        let Some(v) = value(b) else { return false };
        let t = match (p + v) % 36 {
            0 => 36,
            t => t,
        };
        p = (2 * t) % 37;
    }
    value(last).is_some_and(|c| (p + c) % 36 == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_refuse_wrong_input_without_panicking() {
        let rules: [fn(&str) -> bool; 8] =
            [gs1, s10, ups_1z, mod7, identcode, fedex_express, gls, impb];
        for rule in rules {
            assert!(!rule(""));
            assert!(!rule("12A4567890123"));
        }
        assert!(!iso7064_mod37_36(""));
        assert!(!iso7064_mod37_36("A"));
        assert!(!iso7064_mod37_36("0101502600365-C"));
    }

    #[test]
    fn gs1_matches_the_worked_sscc_example() {
        // FedEx Ground "Bar Code & Label Layout Specification" FY04.A, section
        // "Check digit calculation algorithms / UCC/EAN SSCC-18": the data
        // 00012345000000002 gets check digit 7.
        assert!(gs1("000123450000000027"));
        assert!(!gs1("000123450000000028"));
    }
}
