//! Text fields a client fills in (titles, names, emails, file names): control characters are
//! refused with a 400 naming the field, before anything is stored. PostgreSQL cannot store a NUL
//! at all, and the others (escape sequences, line breaks, C1 controls) have no place in a
//! one-line name on either database.

use crate::error::{ApiError, ApiResult};

/// `value` of `field` has no control characters.
pub(crate) fn check_text(field: &str, value: &str) -> ApiResult<()> {
    if value.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{field}: must not contain control characters"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_refused_and_named() {
        assert!(check_text("title", "Holiday – été 🎉").is_ok());
        for bad in [
            "a\u{0}b",
            "tab\there",
            "line\n",
            "\u{1b}[31mred",
            "c1\u{85}",
        ] {
            let e = check_text("title", bad).unwrap_err();
            assert_eq!(e.to_string(), "title: must not contain control characters");
        }
    }
}
