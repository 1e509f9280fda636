use std::fmt;

/// A Maskinporten scope name, `prefix ':' subscope`. The prefix is assigned to one
/// organisation; the subscope may contain `/` and a `.read`/`.write` style suffix.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScopeName {
    name: String,
    colon: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeNameError {
    #[error("a scope name is 'prefix:subscope'")]
    Shape,
    #[error("a scope prefix has only lowercase letters, digits, '-' and '_'")]
    Prefix,
    #[error("a subscope has only letters, digits and '-', '_', '.', '/', ':'")]
    Subscope,
    #[error("a scope name is at most 255 characters")]
    TooLong,
}

impl ScopeName {
    pub fn parse(s: &str) -> Result<Self, ScopeNameError> {
        if s.len() > 255 {
            return Err(ScopeNameError::TooLong);
        }
        let colon = s.find(':').ok_or(ScopeNameError::Shape)?;
        let (prefix, subscope) = (&s[..colon], &s[colon + 1..]);
        if prefix.is_empty() || subscope.is_empty() {
            return Err(ScopeNameError::Shape);
        }
        if !prefix.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(ScopeNameError::Prefix);
        }
        if !subscope
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b':'))
        {
            return Err(ScopeNameError::Subscope);
        }
        Ok(Self { name: s.to_owned(), colon })
    }

    pub fn from_parts(prefix: &str, subscope: &str) -> Result<Self, ScopeNameError> {
        Self::parse(&format!("{prefix}:{subscope}"))
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }
    pub fn prefix(&self) -> &str {
        &self.name[..self.colon]
    }
    pub fn subscope(&self) -> &str {
        &self.name[self.colon + 1..]
    }
}

impl fmt::Display for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
impl fmt::Debug for ScopeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScopeName({})", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_real_scopes() {
        for s in [
            "altinn:authentication/systemregister.write",
            "altinn:instances.read",
            "skatteetaten:formueinntekt/skattemelding",
            "idporten:dcr.read",
            "altinn:serviceowner/instances.read",
        ] {
            let n = ScopeName::parse(s).unwrap();
            assert_eq!(n.as_str(), s);
        }
        let n = ScopeName::parse("altinn:authentication/systemregister.write").unwrap();
        assert_eq!(n.prefix(), "altinn");
        assert_eq!(n.subscope(), "authentication/systemregister.write");
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(ScopeName::parse("noprefix"), Err(ScopeNameError::Shape));
        assert_eq!(ScopeName::parse(":sub"), Err(ScopeNameError::Shape));
        assert_eq!(ScopeName::parse("pre:"), Err(ScopeNameError::Shape));
        assert_eq!(ScopeName::parse("Pre:x"), Err(ScopeNameError::Prefix));
        assert_eq!(ScopeName::parse("pre:a b"), Err(ScopeNameError::Subscope));
        assert_eq!(ScopeName::parse(&format!("p:{}", "x".repeat(300))), Err(ScopeNameError::TooLong));
    }
}
