//! Pinyin for quick search: "张三" is stored as its initials "zs", so typing zs finds 张三. Only
//! the initials are kept: the full spelling would multiply a name's search-index entries by
//! about four (every pair and triple of its letters) for a way of searching nobody uses.

use pinyin::ToPinyin;

pub fn initials(text: &str) -> String {
    let mut first = String::new();
    for c in text.chars() {
        match c.to_pinyin() {
            Some(p) => first.push_str(p.first_letter()),
            // Digits are in the name itself; the initials hold letters only.
            None if c.is_ascii_alphabetic() => first.push(c.to_ascii_lowercase()),
            None => {}
        }
    }
    first
}

/// The full spelling without tones or spaces ("王芳" → "wangfang"), for user names.
pub fn full(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c.to_pinyin() {
            Some(p) => out.push_str(p.plain()),
            None if c.is_ascii_alphanumeric() => out.push(c.to_ascii_lowercase()),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn initials() {
        assert_eq!(super::initials("张三"), "zs");
        assert_eq!(super::initials("华为 Tech"), "hwtech");
        assert_eq!(super::initials("—"), "");
        assert_eq!(super::full("王芳"), "wangfang");
    }
}
