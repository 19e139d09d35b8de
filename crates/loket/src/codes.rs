//! Closed lists of values (education, return reason, …): each has a stable code stored in the
//! database and exchanged in files, and a label in both languages.

use crate::i18n::Lang;

/// Declares an enum whose variants each carry a stable code and Indonesian/English labels.
#[macro_export]
macro_rules! code_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident => ($code:literal, $id:literal, $en:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Accepts the code or either label, case-insensitively (files from offices use both).
            pub fn parse(text: &str) -> Option<$name> {
                let text = text.trim();
                Self::ALL.iter().copied().find(|v| {
                    let (id, en) = v.labels();
                    text.eq_ignore_ascii_case(v.code()) || text.eq_ignore_ascii_case(id) || text.eq_ignore_ascii_case(en)
                })
            }

            pub fn labels(self) -> (&'static str, &'static str) {
                match self { $($name::$variant => ($id, $en)),+ }
            }

            pub fn label(self, lang: $crate::i18n::Lang) -> &'static str {
                let (id, en) = self.labels();
                lang.pick(id, en)
            }

            /// The value with exactly this stable code (no labels, no trimming): how stored
            /// values are read back.
            pub fn from_code(code: &str) -> Option<$name> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }

            /// The accepted codes, for error messages.
            pub fn codes() -> String {
                Self::ALL.iter().map(|v| v.code()).collect::<Vec<_>>().join(", ")
            }
        }

        /// Shows the stable code (what is stored and exchanged), not a label.
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.code())
            }
        }

        /// Serialised as the stable code, the same text the database holds.
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        /// In the OpenAPI document: a string, one of the stable codes (labels are accepted too,
        /// as in files, but codes are what a system should send).
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                ::utoipa::openapi::ObjectBuilder::new()
                    .schema_type(::utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }

        impl ::utoipa::ToSchema for $name {}

        $crate::code_enum_sqlx!($name, ::sqlx::Sqlite);
        $crate::code_enum_sqlx!($name, ::sqlx::Postgres);
    };
}

/// Stores a code enum as its text code on one backend (`TEXT` column): it encodes and decodes
/// like a string, and a code no variant has is a decode error (not a panic and not a default),
/// so a row written by a newer version or edited by hand is reported instead of misread.
#[doc(hidden)]
#[macro_export]
macro_rules! code_enum_sqlx {
    ($name:ident, $db:ty) => {
        impl ::sqlx::Type<$db> for $name {
            fn type_info() -> <$db as ::sqlx::Database>::TypeInfo {
                <&str as ::sqlx::Type<$db>>::type_info()
            }

            fn compatible(ty: &<$db as ::sqlx::Database>::TypeInfo) -> bool {
                <&str as ::sqlx::Type<$db>>::compatible(ty)
            }
        }

        impl<'r> ::sqlx::Decode<'r, $db> for $name {
            fn decode(
                value: <$db as ::sqlx::Database>::ValueRef<'r>,
            ) -> ::std::result::Result<Self, ::sqlx::error::BoxDynError> {
                let code = <&str as ::sqlx::Decode<'r, $db>>::decode(value)?;
                $name::from_code(code)
                    .ok_or_else(|| format!("unknown {} code {code:?}", stringify!($name)).into())
            }
        }

        impl<'q> ::sqlx::Encode<'q, $db> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <$db as ::sqlx::Database>::ArgumentBuffer<'q>,
            ) -> ::std::result::Result<::sqlx::encode::IsNull, ::sqlx::error::BoxDynError> {
                <&str as ::sqlx::Encode<'q, $db>>::encode(self.code(), buf)
            }
        }
    };
}

/// One choice in a `<select>`: code, label, selected.
pub struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

/// Builds the choices of a code enum for a form, marking the current value.
pub fn choices<T: Copy>(
    all: &[T],
    code: fn(T) -> &'static str,
    label: fn(T, Lang) -> &'static str,
    lang: Lang,
    current: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: label(*v, lang),
            selected: code(*v) == current,
        })
        .collect()
}

/// ISO 3166-1 alpha-2 codes, for a Purna PMI's destination country.
pub const ISO_COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A destination country as an upper-case ISO 3166-1 alpha-2 code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(text: &str) -> Option<Country> {
        let upper = text.trim().to_ascii_uppercase();
        let bytes: [u8; 2] = upper.as_bytes().try_into().ok()?;
        ISO_COUNTRIES
            .split(' ')
            .any(|c| c.as_bytes() == bytes)
            .then_some(Country(bytes))
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

/// A country as people read it: ISO code, Indonesian and English name, and its place among
/// the common PMI destinations (listed first in a picker), from the embedded `negara.csv`.
pub struct CountryName {
    pub code: String,
    pub name_id: String,
    pub name_en: String,
    pub common: bool,
}

impl CountryName {
    pub fn name(&self, lang: Lang) -> &str {
        lang.pick(&self.name_id, &self.name_en)
    }
}

/// Every country, the common PMI destinations first (in their order), then the others by
/// Indonesian name, as the file lists them.
pub fn countries() -> &'static [CountryName] {
    static LIST: std::sync::OnceLock<Vec<CountryName>> = std::sync::OnceLock::new();
    LIST.get_or_init(|| {
        let mut reader = csv::Reader::from_reader(include_str!("../data/negara.csv").as_bytes());
        reader
            .records()
            .filter_map(Result::ok)
            .filter_map(|r| {
                Some(CountryName {
                    code: r.get(0)?.to_string(),
                    name_id: r.get(3)?.to_string(),
                    name_en: r.get(4)?.to_string(),
                    common: !r.get(5)?.is_empty(),
                })
            })
            .collect()
    })
}

impl Country {
    /// The country's name in `lang` (its code when the list does not name it).
    pub fn name(&self, lang: Lang) -> &str {
        countries()
            .iter()
            .find(|c| c.code == self.as_str())
            .map_or_else(|| self.as_str(), |c| c.name(lang))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    code_enum! {
        enum Sample { One => ("one", "Satu", "One"), Two => ("two", "Dua", "Two") }
    }

    #[test]
    fn code_enum_labels_follow_the_language() {
        assert_eq!(Sample::One.label(Lang::Id), "Satu");
        assert_eq!(Sample::One.label(Lang::En), "One");
    }

    #[test]
    fn code_enum_parses_code_and_labels_case_insensitively() {
        assert_eq!(Sample::parse("one"), Some(Sample::One));
        assert_eq!(Sample::parse(" DUA "), Some(Sample::Two));
        assert_eq!(Sample::parse("Two"), Some(Sample::Two));
        assert_eq!(Sample::parse("three"), None);
        assert_eq!(Sample::codes(), "one, two");
    }

    #[test]
    fn code_enum_shows_and_serialises_as_its_code() {
        assert_eq!(Sample::Two.to_string(), "two");
        assert_eq!(serde_json::to_string(&Sample::One).unwrap(), "\"one\"");
        assert_eq!(Sample::from_code("two"), Some(Sample::Two));
        assert_eq!(Sample::from_code("Dua"), None);
    }

    /// Decodes `text` as a `Sample` through an in-memory SQLite database.
    async fn decode_sqlite(text: &str) -> Result<Sample, sqlx::Error> {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
        sqlx::query_scalar("SELECT $1")
            .bind(text)
            .fetch_one(&pool)
            .await
    }

    #[tokio::test]
    async fn code_enum_round_trips_through_the_database_and_rejects_unknown_codes() {
        let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
        let back: Sample = sqlx::query_scalar("SELECT $1")
            .bind(Sample::Two)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(back, Sample::Two);
        assert_eq!(decode_sqlite("one").await.unwrap(), Sample::One);
        let err = decode_sqlite("three").await.unwrap_err();
        assert!(matches!(err, sqlx::Error::ColumnDecode { .. }), "{err:?}");
        assert!(
            err.to_string().contains("unknown Sample code \"three\""),
            "{err}"
        );
        // A label is not a stored code.
        assert!(decode_sqlite("Satu").await.is_err());
    }

    #[tokio::test]
    async fn code_enum_decodes_on_postgres_too() {
        // Runs where the storage tests run on PostgreSQL.
        let Ok(url) = std::env::var("LOKET_TEST_POSTGRES_URL") else {
            return;
        };
        let pool = sqlx::PgPool::connect(&url).await.unwrap();
        let back: Sample = sqlx::query_scalar("SELECT $1")
            .bind(Sample::Two)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(back, Sample::Two);
        let err = sqlx::query_scalar::<_, Sample>("SELECT $1")
            .bind("three")
            .fetch_one(&pool)
            .await
            .unwrap_err();
        assert!(matches!(err, sqlx::Error::ColumnDecode { .. }), "{err:?}");
    }

    #[test]
    fn countries_are_iso_codes_only() {
        assert_eq!(Country::parse("my").unwrap().as_str(), "MY");
        assert_eq!(Country::parse("TW").unwrap().as_str(), "TW");
        assert!(Country::parse("XX").is_none());
        assert!(Country::parse("MYS").is_none());
        assert_eq!(ISO_COUNTRIES.split(' ').count(), 249);
        assert_eq!(countries().len(), 249);
        assert!(countries()
            .iter()
            .all(|c| Country::parse(&c.code).is_some()));
        let common: Vec<&str> = countries()
            .iter()
            .take_while(|c| c.common)
            .map(|c| c.name_id.as_str())
            .collect();
        assert_eq!(&common[..3], ["Malaysia", "Taiwan", "Hong Kong"]);
        assert_eq!(
            Country::parse("kr").unwrap().name(Lang::Id),
            "Korea Selatan"
        );
    }
}
