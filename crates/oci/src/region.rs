//! OCI regions: identifier (`us-ashburn-1`) ↔ three-letter key (`iad`) ↔ realm (`oc1`), and the
//! realm's second-level domain (`oraclecloud.com`). The table carries every public, government and
//! dedicated region the `oci` Python SDK 2.189.0 knows (its `regions_definitions.py`); a region
//! launched later can still be used by overriding the endpoints (see [`crate::endpoints`]).

use std::fmt;
use std::str::FromStr;

use crate::error::OciError;

/// (region identifier, region key, realm)
const REGIONS: &[(&str, &str, &str)] = &[
    ("ap-chuncheon-1", "yny", "oc1"),
    ("ap-hyderabad-1", "hyd", "oc1"),
    ("ap-melbourne-1", "mel", "oc1"),
    ("ap-mumbai-1", "bom", "oc1"),
    ("ap-osaka-1", "kix", "oc1"),
    ("ap-seoul-1", "icn", "oc1"),
    ("ap-sydney-1", "syd", "oc1"),
    ("ap-tokyo-1", "nrt", "oc1"),
    ("ca-montreal-1", "yul", "oc1"),
    ("ca-toronto-1", "yyz", "oc1"),
    ("eu-amsterdam-1", "ams", "oc1"),
    ("eu-frankfurt-1", "fra", "oc1"),
    ("eu-zurich-1", "zrh", "oc1"),
    ("me-jeddah-1", "jed", "oc1"),
    ("me-dubai-1", "dxb", "oc1"),
    ("sa-saopaulo-1", "gru", "oc1"),
    ("uk-cardiff-1", "cwl", "oc1"),
    ("uk-london-1", "lhr", "oc1"),
    ("us-ashburn-1", "iad", "oc1"),
    ("us-phoenix-1", "phx", "oc1"),
    ("us-sanjose-1", "sjc", "oc1"),
    ("sa-vinhedo-1", "vcp", "oc1"),
    ("sa-santiago-1", "scl", "oc1"),
    ("il-jerusalem-1", "mtz", "oc1"),
    ("eu-marseille-1", "mrs", "oc1"),
    ("ap-singapore-1", "sin", "oc1"),
    ("me-abudhabi-1", "auh", "oc1"),
    ("eu-milan-1", "lin", "oc1"),
    ("eu-stockholm-1", "arn", "oc1"),
    ("af-johannesburg-1", "jnb", "oc1"),
    ("eu-paris-1", "cdg", "oc1"),
    ("mx-queretaro-1", "qro", "oc1"),
    ("eu-madrid-1", "mad", "oc1"),
    ("us-chicago-1", "ord", "oc1"),
    ("mx-monterrey-1", "mty", "oc1"),
    ("us-saltlake-2", "aga", "oc1"),
    ("sa-bogota-1", "bog", "oc1"),
    ("sa-valparaiso-1", "vap", "oc1"),
    ("ap-singapore-2", "xsp", "oc1"),
    ("me-riyadh-1", "ruh", "oc1"),
    ("ap-delhi-1", "onm", "oc1"),
    ("ap-batam-1", "hsg", "oc1"),
    ("eu-madrid-3", "orf", "oc1"),
    ("eu-turin-1", "nrq", "oc1"),
    ("ap-kulai-2", "jbp", "oc1"),
    ("af-casablanca-1", "lej", "oc1"),
    ("us-langley-1", "lfi", "oc2"),
    ("us-luke-1", "luf", "oc2"),
    ("us-gov-ashburn-1", "ric", "oc3"),
    ("us-gov-chicago-1", "pia", "oc3"),
    ("us-gov-phoenix-1", "tus", "oc3"),
    ("uk-gov-london-1", "ltn", "oc4"),
    ("uk-gov-cardiff-1", "brs", "oc4"),
    ("ap-chiyoda-1", "nja", "oc8"),
    ("ap-ibaraki-1", "ukb", "oc8"),
    ("me-dcc-muscat-1", "mct", "oc9"),
    ("me-ibri-1", "ibr", "oc9"),
    ("ap-dcc-canberra-1", "wga", "oc10"),
    ("eu-dcc-milan-1", "bgy", "oc14"),
    ("eu-dcc-milan-2", "mxp", "oc14"),
    ("eu-dcc-dublin-2", "snn", "oc14"),
    ("eu-dcc-rating-2", "dtm", "oc14"),
    ("eu-dcc-rating-1", "dus", "oc14"),
    ("eu-dcc-dublin-1", "ork", "oc14"),
    ("ap-dcc-gazipur-1", "dac", "oc15"),
    ("eu-madrid-2", "vll", "oc19"),
    ("eu-frankfurt-2", "str", "oc19"),
    ("eu-jovanovac-1", "beg", "oc20"),
    ("me-dcc-doha-1", "doh", "oc21"),
    ("me-alrayyan-1", "vve", "oc21"),
    ("us-somerset-1", "ebb", "oc23"),
    ("us-thames-1", "ebl", "oc23"),
    ("eu-dcc-zurich-1", "avz", "oc24"),
    ("eu-crissier-1", "avf", "oc24"),
    ("me-abudhabi-3", "ahu", "oc26"),
    ("me-alain-1", "rba", "oc26"),
    ("me-abudhabi-2", "rkt", "oc29"),
    ("me-abudhabi-4", "shj", "oc29"),
    ("ap-seoul-2", "dtz", "oc35"),
    ("ap-suwon-1", "dln", "oc35"),
    ("ap-chuncheon-2", "bno", "oc35"),
    ("us-ashburn-2", "yxj", "oc42"),
    ("us-newark-1", "pgc", "oc42"),
    ("eu-budapest-1", "jsk", "oc51"),
    ("sa-riodejaneiro-1", "hnw", "oc52"),
];

/// (realm, second-level domain)
const REALMS: &[(&str, &str)] = &[
    ("oc1", "oraclecloud.com"),
    ("oc2", "oraclegovcloud.com"),
    ("oc3", "oraclegovcloud.com"),
    ("oc4", "oraclegovcloud.uk"),
    ("oc8", "oraclecloud8.com"),
    ("oc9", "oraclecloud9.com"),
    ("oc10", "oraclecloud10.com"),
    ("oc14", "oraclecloud14.com"),
    ("oc15", "oraclecloud15.com"),
    ("oc19", "oraclecloud.eu"),
    ("oc20", "oraclecloud20.com"),
    ("oc21", "oraclecloud21.com"),
    ("oc23", "oraclecloud23.com"),
    ("oc24", "oraclecloud24.com"),
    ("oc26", "oraclecloud26.com"),
    ("oc29", "oraclecloud29.com"),
    ("oc35", "oraclecloud35.com"),
    ("oc42", "oraclecloud42.com"),
    ("oc51", "oraclecloud51.com"),
    ("oc52", "oraclecloud52.com"),
];

/// A known OCI region. Parse one from an identifier or a key, in any case:
/// `"us-ashburn-1".parse::<Region>()` and `"IAD".parse::<Region>()` are the same region.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    id: &'static str,
    key: &'static str,
    realm: &'static str,
    domain: &'static str,
}

impl Region {
    /// Looks a region up by identifier or key (case-insensitive, surrounding blanks ignored).
    pub fn lookup(input: &str) -> Result<Region, OciError> {
        let wanted = input.trim().to_ascii_lowercase();
        let found = REGIONS
            .iter()
            .find(|(id, key, _)| *id == wanted || *key == wanted)
            .ok_or_else(|| OciError::UnknownRegion {
                input: input.to_string(),
            })?;
        let (id, key, realm) = *found;
        let domain = realm_domain(realm).ok_or_else(|| OciError::UnknownRegion {
            input: input.to_string(),
        })?;
        Ok(Region {
            id,
            key,
            realm,
            domain,
        })
    }

    /// Every region in the table.
    pub fn all() -> impl Iterator<Item = Region> {
        REGIONS
            .iter()
            .filter_map(|(id, _, _)| Region::lookup(id).ok())
    }

    /// The region identifier, e.g. `us-ashburn-1`.
    pub fn id(&self) -> &'static str {
        self.id
    }

    /// The three-letter region key in lower case, e.g. `iad` (OCI's documents print it upper case).
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// The realm, e.g. `oc1`.
    pub fn realm(&self) -> &'static str {
        self.realm
    }

    /// The realm's second-level domain, e.g. `oraclecloud.com`.
    pub fn second_level_domain(&self) -> &'static str {
        self.domain
    }

    /// `https://{service}.{region}.{domain}`: the classic endpoint form (Object Storage, auth).
    pub fn endpoint(&self, service: &str) -> String {
        format!("https://{service}.{}.{}", self.id, self.domain)
    }

    /// `https://{service}.{region}.oci.{domain}`: the form newer services use (Secrets,
    /// Container Instances, Artifacts).
    pub fn oci_endpoint(&self, service: &str) -> String {
        format!("https://{service}.{}.oci.{}", self.id, self.domain)
    }

    /// The registry host for `docker pull`-style image references: `{key}.ocir.io` in the
    /// commercial realm (oc1), where OCIR keeps its short airport-code names, and
    /// `ocir.{region}.oci.{domain}` in every other realm (the `ocir.io` names exist only in oc1).
    pub fn ocir_host(&self) -> String {
        if self.realm == "oc1" {
            format!("{}.ocir.io", self.key)
        } else {
            format!("ocir.{}.oci.{}", self.id, self.domain)
        }
    }
}

/// The second-level domain of a realm (`oc1` → `oraclecloud.com`), if the realm is known.
pub fn realm_domain(realm: &str) -> Option<&'static str> {
    let realm = realm.trim().to_ascii_lowercase();
    REALMS.iter().find(|(r, _)| *r == realm).map(|(_, d)| *d)
}

/// The second-level domains of every known realm (some realms share one).
pub fn realm_domains() -> impl Iterator<Item = &'static str> {
    REALMS
        .iter()
        .enumerate()
        .filter(|(i, (_, d))| !REALMS[..*i].iter().any(|(_, earlier)| earlier == d))
        .map(|(_, (_, d))| *d)
}

impl FromStr for Region {
    type Err = OciError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Region::lookup(s)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({} {} {})", self.id, self.key, self.realm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_and_keys_resolve_to_the_same_region_in_any_case() {
        let by_id: Region = "us-ashburn-1".parse().unwrap();
        let by_key: Region = "IAD".parse().unwrap();
        assert_eq!(by_id, by_key);
        assert_eq!(Region::lookup(" Eu-Frankfurt-1 ").unwrap().key(), "fra");
        assert_eq!(by_id.realm(), "oc1");
        assert_eq!(by_id.second_level_domain(), "oraclecloud.com");
    }

    #[test]
    fn realms_carry_their_domains() {
        let cases = [
            ("us-langley-1", "oc2", "oraclegovcloud.com"),
            ("us-gov-ashburn-1", "oc3", "oraclegovcloud.com"),
            ("uk-gov-london-1", "oc4", "oraclegovcloud.uk"),
            ("ap-chiyoda-1", "oc8", "oraclecloud8.com"),
            ("eu-frankfurt-2", "oc19", "oraclecloud.eu"),
            ("sa-riodejaneiro-1", "oc52", "oraclecloud52.com"),
        ];
        for (id, realm, domain) in cases {
            let r = Region::lookup(id).unwrap();
            assert_eq!(
                (r.realm(), r.second_level_domain()),
                (realm, domain),
                "{id}"
            );
        }
    }

    #[test]
    fn every_entry_is_consistent() {
        let all: Vec<Region> = Region::all().collect();
        assert_eq!(all.len(), REGIONS.len(), "every region has a known realm");
        let mut keys: Vec<&str> = all.iter().map(|r| r.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), all.len(), "region keys are unique");
        for r in &all {
            assert_eq!(r.key().len(), 3, "{r:?}");
            assert_eq!(Region::lookup(r.key()).unwrap(), *r);
        }
    }

    #[test]
    fn unknown_region_names_the_input() {
        let err = Region::lookup("mars-north-1").unwrap_err();
        assert!(err.to_string().contains("'mars-north-1'"), "{err}");
    }

    #[test]
    fn endpoints_follow_the_realm() {
        let r = Region::lookup("phx").unwrap();
        assert_eq!(
            r.endpoint("objectstorage"),
            "https://objectstorage.us-phoenix-1.oraclecloud.com"
        );
        assert_eq!(
            r.oci_endpoint("secrets.vaults"),
            "https://secrets.vaults.us-phoenix-1.oci.oraclecloud.com"
        );
        assert_eq!(r.ocir_host(), "phx.ocir.io");
        let gov = Region::lookup("us-luke-1").unwrap();
        assert_eq!(gov.ocir_host(), "ocir.us-luke-1.oci.oraclegovcloud.com");
        assert_eq!(
            gov.endpoint("auth"),
            "https://auth.us-luke-1.oraclegovcloud.com"
        );
    }
}
