//! The language of an uploaded text track: a BCP 47 tag (RFC 5646 syntax, checked by
//! `oxilangtag`) whose primary subtag is an ISO 639 code (`isolang`'s ISO 639-1 and 639-3
//! tables, which hold every 639-2/T code, plus the twenty 639-2/B codes). This is what HLS's
//! `LANGUAGE` and DASH's `lang` expect.

use oxilangtag::LanguageTag;

/// ISO 639-2/B codes (bibliographic) that differ from the 639-2/T code isolang knows.
const ISO_639_2_B: [&str; 20] = [
    "alb", "arm", "baq", "bur", "chi", "cze", "dut", "fre", "geo", "ger", "gre", "ice", "mac",
    "mao", "may", "per", "rum", "slo", "tib", "wel",
];

/// The tag in its normal case (`pt-br` → `pt-BR`), or why it is refused.
pub(crate) fn normalise(tag: &str) -> Result<String, String> {
    let parsed = LanguageTag::parse_and_normalize(tag.trim()).map_err(|e| {
        format!("language: {tag:?} is not a language tag ({e}); use an ISO 639 code such as `en` or `eng`, optionally with a region (`pt-BR`)")
    })?;
    let primary = parsed.primary_language();
    let known = match primary.len() {
        2 => isolang::Language::from_639_1(primary).is_some(),
        3 => isolang::Language::from_639_3(primary).is_some() || ISO_639_2_B.contains(&primary),
        _ => false,
    };
    if !known {
        return Err(format!(
            "language: {primary:?} is not an ISO 639 language code; use one such as `en`, `eng` or `pt-BR`"
        ));
    }
    Ok(parsed.into_inner())
}

/// The English name of a tag's language (`pt-BR` → `Portuguese`), a track's default label.
pub(crate) fn english_name(tag: &str) -> Option<&'static str> {
    let primary = tag.split('-').next()?;
    let lang = match primary.len() {
        2 => isolang::Language::from_639_1(primary),
        _ => isolang::Language::from_639_3(primary),
    }?;
    Some(lang.to_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iso_639_codes_and_bcp47_tags_built_on_them() {
        for (given, want) in [
            ("en", "en"),
            ("EN", "en"),
            ("eng", "eng"),
            ("fre", "fre"),
            ("fra", "fra"),
            ("pt-br", "pt-BR"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("es-419", "es-419"),
            ("und", "und"),
        ] {
            assert_eq!(normalise(given).as_deref(), Ok(want), "{given}");
        }
    }

    #[test]
    fn refuses_what_is_not_one() {
        for bad in [
            "",
            "xx",
            "qqq",
            "english",
            "en_US",
            "e",
            "en--us",
            "x-private",
            "zz-ZZ",
            "12",
        ] {
            let err = normalise(bad).unwrap_err();
            assert!(err.starts_with("language:"), "{bad}: {err}");
        }
    }

    #[test]
    fn names() {
        assert_eq!(english_name("pt-BR"), Some("Portuguese"));
        assert_eq!(english_name("deu"), Some("German"));
        assert_eq!(english_name("qqq"), None);
    }
}
