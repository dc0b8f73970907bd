//! The text forms shared by every part of the engine that prints: the one float printer
//! (round-trippable, identical in every tier and in the source printer) and string quoting.

/// Formats a float in Echo's one printed form: the shortest digits that read back to the same
/// double; plain decimal notation (always with a `.`) when the decimal exponent is in
/// `-5..=15`, otherwise scientific `d.ddde±x` without a `+`; `inf`, `-inf`, `nan`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "inf".to_string()
        } else {
            "-inf".to_string()
        };
    }
    // `{:e}` yields the shortest round-trip digits in the form `-d.ddde-x`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci
        .split_once('e')
        .expect("LowerExp always has an exponent");
    let exp: i32 = exp.parse().expect("LowerExp exponent is an integer");
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::with_capacity(digits.len() + 8);
    if neg {
        out.push('-');
    }
    if (-5..=15).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push_str(&exp.to_string());
    }
    out
}

/// Room for the decimal form of any `i64` (`-9223372036854775808` is 20 bytes).
pub const INT_TEXT_BYTES: usize = 20;

/// The decimal form of `i` (as `{i}` formats it), written at the end of `buf`. Faster than
/// going through `fmt`, for `str` and printing, which turn ints into text all the time.
pub fn format_int(i: i64, buf: &mut [u8; INT_TEXT_BYTES]) -> &str {
    /// "00" to "99", two digits at a time.
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut n = i.unsigned_abs();
    let mut at = INT_TEXT_BYTES;
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if n >= 10 {
        let pair = n as usize * 2;
        at -= 2;
        buf[at..at + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        at -= 1;
        buf[at] = b'0' + n as u8;
    }
    if i < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    // SAFETY: `buf[at..]` holds only ASCII digits and a leading `-`, all written above.
    unsafe { std::str::from_utf8_unchecked(&buf[at..]) }
}

/// Appends `s` in quotes, escaping `"`, `\` and control characters.
pub fn quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                use std::fmt::Write;
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_in_one_round_trip_form() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.1, "0.1"),
            (-2.5, "-2.5"),
            (1e300, "1e300"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e16"),
            (123456.789, "123456.789"),
            (1e-5, "0.00001"),
            (1.5e-6, "1.5e-6"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
            (f64::NEG_INFINITY, "-inf"),
            (f64::NAN, "nan"),
            (f64::MAX, "1.7976931348623157e308"),
            (5e-324, "5e-324"),
            (0.30000000000000004, "0.30000000000000004"),
        ];
        for (f, s) in cases {
            assert_eq!(format_float(*f), *s, "formatting {f:?}");
            if f.is_finite() {
                assert_eq!(
                    s.parse::<f64>().unwrap().to_bits(),
                    f.to_bits(),
                    "round trip of {s}"
                );
            }
        }
    }

    #[test]
    fn ints_format_as_fmt_does() {
        let mut buf = [0u8; INT_TEXT_BYTES];
        let mut cases = vec![
            0,
            1,
            -1,
            9,
            10,
            -10,
            99,
            100,
            i64::MAX,
            i64::MIN,
            i64::MIN + 1,
        ];
        cases.extend((0..19).flat_map(|e| {
            let p = 10i64.pow(e);
            [p - 1, p, p + 1, -p + 1, -p, -p - 1]
        }));
        for i in cases {
            assert_eq!(format_int(i, &mut buf), i.to_string());
        }
    }

    #[test]
    fn quoting_escapes_what_a_literal_cannot_hold() {
        let mut s = String::new();
        quote_into("a\"b\\\n\u{1}é", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\\\n\\u{1}é\"");
    }
}
