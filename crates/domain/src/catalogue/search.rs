//! Free-text search over package names (and descriptions, when the catalogue has them) in one
//! language, in the result shape of Altinn's `meta/info/accesspackages/search`: each hit lists
//! the fields that matched and, per word, whether and how well it matched.
//!
//! Scoring is fullmakt's own (the reference does not specify its weights): a word equal to a
//! search word scores 1, one starting with it 0.8, one containing it 0.5; a field scores the
//! mean of its best score per search word, and a package matches only if every search word
//! matched somewhere. The embedded extract has no descriptions, so today only names are searched.

use super::{Catalogue, Language, PackageIndex};

#[derive(Debug, Clone, PartialEq)]
pub struct SearchWord {
    pub content: String,
    pub lowercase_content: String,
    pub is_match: bool,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchField {
    /// `name` or `description`.
    pub field: &'static str,
    pub value: String,
    pub score: f64,
    pub words: Vec<SearchWord>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub package: PackageIndex,
    pub score: f64,
    pub fields: Vec<SearchField>,
}

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect()
}

fn word_score(word: &str, term: &str) -> f64 {
    if word == term {
        1.0
    } else if word.starts_with(term) {
        0.8
    } else if word.contains(term) {
        0.5
    } else {
        0.0
    }
}

impl Catalogue {
    /// Packages whose name matches every word of `term` in `language`, best first. An empty
    /// term lists every package (score 0), as the reference's unfiltered search does.
    /// `entity_type` keeps only packages about that kind of party (`Organization`/`Person`,
    /// or the type's name in any language).
    pub fn search_packages(&self, term: &str, language: Language, entity_type: Option<&str>) -> Vec<SearchHit> {
        let terms: Vec<String> = words(term).into_iter().map(str::to_lowercase).collect();
        let type_matches = |key: &str| match entity_type {
            None => true,
            Some(wanted) => {
                let wanted = wanted.trim().to_lowercase();
                self.entity_type(key).is_some_and(|t| {
                    t.key.to_lowercase() == wanted || [&t.name.nb, &t.name.nn, &t.name.en].iter().any(|n| n.to_lowercase() == wanted)
                })
            }
        };
        let mut hits: Vec<SearchHit> = Vec::new();
        for package in self.packages.iter().filter(|p| type_matches(&p.entity_type)) {
            if terms.is_empty() {
                hits.push(SearchHit { package: package.index, score: 0.0, fields: Vec::new() });
                continue;
            }
            let name = package.name.get(language);
            let mut best_per_term = vec![0.0f64; terms.len()];
            let field_words: Vec<SearchWord> = words(name)
                .into_iter()
                .map(|w| {
                    let lower = w.to_lowercase();
                    let mut best = 0.0f64;
                    for (i, t) in terms.iter().enumerate() {
                        let s = word_score(&lower, t);
                        best = best.max(s);
                        best_per_term[i] = best_per_term[i].max(s);
                    }
                    SearchWord { content: w.to_owned(), lowercase_content: lower, is_match: best > 0.0, score: best }
                })
                .collect();
            if best_per_term.contains(&0.0) {
                continue;
            }
            let score = best_per_term.iter().sum::<f64>() / terms.len() as f64;
            hits.push(SearchHit {
                package: package.index,
                score,
                fields: vec![SearchField { field: "name", value: name.to_owned(), score, words: field_words }],
            });
        }
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| self.package(a.package).name.get(language).cmp(self.package(b.package).name.get(language)))
        });
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_matches_names_in_the_requested_language() {
        let c = Catalogue::embedded();
        let hits = c.search_packages("jordbruk", Language::Nb, None);
        assert_eq!(c.package(hits[0].package).code, "jordbruk");
        assert_eq!(hits[0].score, 1.0);
        assert_eq!(hits[0].fields[0].field, "name");
        assert!(hits[0].fields[0].words[0].is_match);
        let english = c.search_packages("agriculture", Language::En, None);
        assert_eq!(c.package(english[0].package).code, "jordbruk");
        assert!(c.search_packages("agriculture", Language::Nb, None).is_empty());
    }

    #[test]
    fn every_search_word_must_match_and_exact_words_rank_first() {
        let c = Catalogue::embedded();
        let hits = c.search_packages("Regnskapsfører lønn", Language::Nb, None);
        assert_eq!(hits.len(), 1, "{:?}", hits.iter().map(|h| &c.package(h.package).code).collect::<Vec<_>>());
        assert_eq!(c.package(hits[0].package).code, "regnskapsforer-lonn");
        let partial = c.search_packages("skatt", Language::Nb, None);
        assert!(partial.len() > 1);
        assert!(partial.windows(2).all(|w| w[0].score >= w[1].score));
    }

    #[test]
    fn an_empty_term_lists_everything_and_the_type_filter_narrows() {
        let c = Catalogue::embedded();
        assert_eq!(c.search_packages("", Language::Nb, None).len(), 223);
        assert_eq!(c.search_packages("  ", Language::Nb, Some("Person")).len(), 76);
        assert_eq!(c.search_packages("", Language::Nb, Some("organisasjon")).len(), 147);
        assert_eq!(c.search_packages("", Language::Nb, Some("nothing")).len(), 0);
    }
}
