//! Localisation with Fluent. zh-CN is the default locale, en the second; the message files are
//! compiled into the binary. A missing message falls back to the other locale, then to its key,
//! and a test keeps the two files in step.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};

const ZH_CN: &str = include_str!("../locales/zh-CN.ftl");
const EN: &str = include_str!("../locales/en.ftl");

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "zh-CN")]
    ZhCn,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::ZhCn, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::En => "en",
        }
    }

    /// Accepts "zh-CN", "zh", "zh_CN", "en", "en-US"... case-insensitively.
    pub fn parse(s: &str) -> Option<Locale> {
        let s = s.trim().to_ascii_lowercase().replace('_', "-");
        if s == "zh" || s.starts_with("zh-") {
            Some(Locale::ZhCn)
        } else if s == "en" || s.starts_with("en-") {
            Some(Locale::En)
        } else {
            None
        }
    }

    /// The best locale for an `Accept-Language` header, honouring order (q-values are
    /// written in preference order by every browser).
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        header
            .split(',')
            .find_map(|part| Locale::parse(part.split(';').next().unwrap_or("")))
    }

    /// The name of the language in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::ZhCn => "简体中文",
            Locale::En => "English",
        }
    }
}

pub struct I18n {
    zh: FluentBundle<FluentResource>,
    en: FluentBundle<FluentResource>,
}

fn bundle(lang: &str, source: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(source.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("invalid {lang} message file: {errors:?}"));
    let langid = lang.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![langid]);
    // Unicode isolation marks would end up inside HTML attributes and CSV cells.
    b.set_use_isolating(false);
    b.add_resource(resource)
        .unwrap_or_else(|e| panic!("duplicate {lang} messages: {e:?}"));
    b
}

impl I18n {
    pub fn global() -> &'static I18n {
        static I18N: OnceLock<I18n> = OnceLock::new();
        I18N.get_or_init(|| I18n {
            zh: bundle("zh-CN", ZH_CN),
            en: bundle("en", EN),
        })
    }

    fn bundles(&self, locale: Locale) -> [&FluentBundle<FluentResource>; 2] {
        match locale {
            Locale::ZhCn => [&self.zh, &self.en],
            Locale::En => [&self.en, &self.zh],
        }
    }

    pub fn t(&self, locale: Locale, key: &str) -> String {
        self.format(locale, key, None)
    }

    pub fn t_args(&self, locale: Locale, key: &str, args: &[(&str, String)]) -> String {
        let mut fa = FluentArgs::new();
        for (k, v) in args {
            fa.set(*k, FluentValue::from(v.clone()));
        }
        self.format(locale, key, Some(&fa))
    }

    fn format(&self, locale: Locale, key: &str, args: Option<&FluentArgs>) -> String {
        for b in self.bundles(locale) {
            if let Some(pattern) = b.get_message(key).and_then(|m| m.value()) {
                let mut errors = vec![];
                return b.format_pattern(pattern, args, &mut errors).into_owned();
            }
        }
        key.to_owned()
    }

    /// Message ids present in one locale's file, for the completeness test and tooling.
    pub fn keys(locale: Locale) -> Vec<String> {
        let src = match locale {
            Locale::ZhCn => ZH_CN,
            Locale::En => EN,
        };
        src.lines()
            .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_lowercase()))
            .filter_map(|l| l.split_once(" =").map(|(k, _)| k.trim().to_owned()))
            .collect()
    }
}

/// Shorthand for `I18n::global().t(locale, key)`.
pub fn t(locale: Locale, key: &str) -> String {
    I18n::global().t(locale, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_locales_have_the_same_messages() {
        let mut zh = I18n::keys(Locale::ZhCn);
        let mut en = I18n::keys(Locale::En);
        zh.sort();
        en.sort();
        let only_zh: Vec<_> = zh.iter().filter(|k| !en.contains(k)).collect();
        let only_en: Vec<_> = en.iter().filter(|k| !zh.contains(k)).collect();
        assert!(
            only_zh.is_empty() && only_en.is_empty(),
            "zh only: {only_zh:?}; en only: {only_en:?}"
        );
        let mut dedup = zh.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), zh.len(), "duplicate keys");
    }

    #[test]
    fn formats_with_arguments_and_falls_back() {
        let i = I18n::global();
        assert_eq!(i.t(Locale::ZhCn, "app-name"), "关系 CRM");
        assert_eq!(i.t(Locale::En, "app-name"), "Guanxi CRM");
        assert_eq!(i.t(Locale::En, "no-such-key"), "no-such-key");
        assert!(
            i.t_args(Locale::En, "welcome", &[("name", "Li".into())])
                .contains("Li")
        );
    }

    #[test]
    fn parses_locales() {
        assert_eq!(Locale::parse("zh_cn"), Some(Locale::ZhCn));
        assert_eq!(
            Locale::from_accept_language("fr;q=1, en-US;q=0.8, zh"),
            Some(Locale::En)
        );
        assert_eq!(Locale::parse("fr"), None);
    }
}
