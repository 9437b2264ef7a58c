//! Pinyin for quick search: "张三" is stored as "zhangsan zs", so both the full spelling and the
//! initials (zs → 张三) find it.

use pinyin::ToPinyin;

pub fn initials(text: &str) -> String {
    let mut full = String::new();
    let mut first = String::new();
    for c in text.chars() {
        match c.to_pinyin() {
            Some(p) => {
                full.push_str(p.plain());
                first.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                let l = c.to_ascii_lowercase();
                full.push(l);
                first.push(l);
            }
            None => {}
        }
    }
    if full.is_empty() {
        String::new()
    } else {
        format!("{full} {first}")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn full_and_initials() {
        assert_eq!(super::initials("张三"), "zhangsan zs");
        assert_eq!(super::initials("华为 Tech"), "huaweitech hwtech");
        assert_eq!(super::initials("—"), "");
    }
}
