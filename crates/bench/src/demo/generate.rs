//! Row generation: every value of a record comes from (seed, record index), so the same seed
//! gives the same data on any database; names, landlines and mobiles are unique by construction
//! (bijections of the index), not by lookups. A customer's follow-ups and pool standing come
//! from `activity`.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use guanxi_store::bulk::Val;

use super::activity::{self, Activity};
use super::org::{DemoUser, full_pinyin, person_name};
use crate::rng::{Permutation, Rng};
use crate::words::*;

pub const CUSTOMER_COLUMNS: &[&str] = &[
    "id",
    "owner_id",
    "department_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "name",
    "pinyin",
    "customer_type",
    "source",
    "industry",
    "level",
    "region",
    "address",
    "phone",
    "website",
    "tags",
    "notes",
    "score",
    "last_follow_up_at",
    "pool_id",
    "fall_back_at",
    "released_at",
];

pub const CONTACT_COLUMNS: &[&str] = &[
    "id",
    "owner_id",
    "department_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "name",
    "gender",
    "title",
    "mobile",
    "phone",
    "email",
    "wechat",
    "birthday",
    "customer_id",
    "organisation_id",
    "is_primary",
];

pub const ORGANISATION_COLUMNS: &[&str] = &[
    "id",
    "owner_id",
    "department_id",
    "created_by",
    "created_at",
    "updated_by",
    "updated_at",
    "name",
    "credit_code",
    "industry",
    "address",
];

/// Customers per organisation (a group company above about ten customers).
pub const CUSTOMERS_PER_ORGANISATION: u64 = 10;

/// The codes of the dictionary lists the generator fills.
#[derive(Clone, Debug, Default)]
pub struct Dictionaries {
    pub customer_type: Vec<String>,
    pub customer_source: Vec<String>,
    pub industry: Vec<String>,
    pub customer_level: Vec<String>,
    pub gender: Vec<String>,
}

/// A city with its districts (code, name) from the `regions` table.
#[derive(Clone, Debug)]
pub struct City {
    pub prefix: &'static str,
    pub area_code: &'static str,
    pub territory: Territory,
    pub districts: Vec<(String, String)>,
}

/// Where this run starts: the ids to use and how many records already exist.
#[derive(Clone, Copy, Debug, Default)]
pub struct Start {
    pub customer_id: i64,
    pub contact_id: i64,
    pub organisation_id: i64,
    pub follow_up_id: i64,
    /// Records already present, so that an added run continues the unique sequences.
    pub customers_before: u64,
    pub contacts_before: u64,
    pub organisations_before: u64,
}

/// Generated rows of one batch of customers, with their quick-search grams (gram, record id),
/// sorted, and their activity.
#[derive(Default)]
pub struct Batch {
    pub customers: Vec<Vec<Val>>,
    pub contacts: Vec<Vec<Val>>,
    pub organisations: Vec<Vec<Val>>,
    pub customer_grams: Vec<(String, i64)>,
    pub contact_grams: Vec<(String, i64)>,
    pub organisation_grams: Vec<(String, i64)>,
    /// The same index as documents (record id, its grams joined by spaces), when the
    /// generator makes them for SQLite's FTS5 tables instead of gram rows.
    pub customer_docs: Vec<(i64, String)>,
    pub contact_docs: Vec<(i64, String)>,
    pub organisation_docs: Vec<(i64, String)>,
    /// Grams in the documents.
    pub doc_grams: u64,
    pub follow_ups: Vec<Vec<Val>>,
    /// `follow_up_behaviours` rows.
    pub behaviours: Vec<Vec<Val>>,
    /// `ownership_events` rows (without ids).
    pub events: Vec<Vec<Val>>,
    /// `fall_back_warnings` rows: the warnings still to be given.
    pub warnings: Vec<Vec<Val>>,
    /// Customers in a pool, owned customers due to fall back when the data was made, and
    /// visits planned for the coming days.
    pub pooled: u64,
    pub due: u64,
    pub appointments: u64,
}

pub struct Generator {
    seed: u64,
    n: u64,
    start: Start,
    cities: Vec<City>,
    owners: Vec<(Territory, Vec<DemoUser>)>,
    dict: Dictionaries,
    names: Permutation,
    name_space: u64,
    org_names: Permutation,
    org_space: u64,
    phones: Permutation,
    mobiles: Permutation,
    brand_pinyin: Vec<String>,
    anchor: DateTime<Utc>,
    activity: Activity,
    /// Contacts and follow-ups generated so far in this run (their ids follow on).
    contacts: u64,
    next_follow_up: i64,
    /// Whether batches carry their quick-search grams.
    grams: bool,
    /// ... as documents (SQLite) rather than gram rows (PostgreSQL).
    documents: bool,
}

const ORG_FORMS: &[&str] = &["集团有限公司", "控股集团有限公司", "实业集团有限公司"];
const TWO_YEARS_SECS: i64 = 730 * 86_400;

fn text(s: impl Into<String>) -> Val {
    Val::Text(s.into())
}

fn maybe(r: &mut Rng, percent: u64, f: impl FnOnce(&mut Rng) -> String) -> Val {
    if r.chance(percent) {
        Val::Text(f(r))
    } else {
        Val::Null
    }
}

/// Picks a dictionary code, favouring the first ones with `weights` when given.
fn code(r: &mut Rng, codes: &[String], weights: &[u32]) -> Val {
    if codes.is_empty() {
        return Val::Null;
    }
    let i = if weights.len() == codes.len() {
        r.weighted(weights)
    } else {
        r.index(codes.len())
    };
    text(codes[i].clone())
}

impl Generator {
    pub fn new(
        seed: u64,
        n: u64,
        start: Start,
        cities: Vec<City>,
        users: &[DemoUser],
        dict: Dictionaries,
        activity: Activity,
    ) -> anyhow::Result<Generator> {
        let mut owners: Vec<(Territory, Vec<DemoUser>)> = vec![];
        for u in users.iter().filter(|u| u.role == "sales") {
            let Some(t) = u.territory else { continue };
            match owners.iter_mut().find(|o| o.0 == t) {
                Some(o) => o.1.push(u.clone()),
                None => owners.push((t, vec![u.clone()])),
            }
        }
        let cities: Vec<City> = cities
            .into_iter()
            .filter(|c| owners.iter().any(|o| o.0 == c.territory))
            .collect();
        if cities.is_empty() {
            anyhow::bail!("the demo organisation has no salespeople");
        }
        let brands = (BRAND_FIRST.len() * BRAND_SECOND.len()) as u64;
        let name_space = cities.len() as u64 * brands * INDUSTRY_WORDS.len() as u64;
        let org_space = cities.len() as u64 * brands * ORG_FORMS.len() as u64;
        let brand_pinyin = (0..brands as usize)
            .map(|b| full_pinyin(&brand(b)))
            .collect();
        Ok(Generator {
            seed,
            n,
            start,
            cities,
            owners,
            dict,
            names: Permutation::new(name_space, seed, 1),
            name_space,
            org_names: Permutation::new(org_space, seed, 2),
            org_space,
            phones: Permutation::new(80_000_000, seed, 3),
            mobiles: Permutation::new(100_000_000, seed, 4),
            brand_pinyin,
            anchor: activity.today,
            activity,
            contacts: 0,
            next_follow_up: start.follow_up_id,
            grams: true,
            documents: false,
        })
    }

    /// Batches carrying the quick-search index as documents, for SQLite's FTS5 tables: no
    /// gram rows to sort on this thread, none to group back into documents on the loader's.
    pub fn with_documents(mut self) -> Generator {
        self.documents = true;
        self
    }

    /// Batches without quick-search grams (for the raw insert floor and the import files, which need the rows only).
    pub fn without_search_index(mut self) -> Generator {
        self.grams = false;
        self
    }

    /// Creation times rise with the index over the two years before the day the data is made
    /// for, so that a seed and a day give the same data.
    fn created(&self, r: &mut Rng, j: u64) -> (DateTime<Utc>, DateTime<Utc>) {
        let base = self.anchor - Duration::seconds(TWO_YEARS_SECS);
        let offset =
            (i128::from(TWO_YEARS_SECS) * i128::from(j) / i128::from(self.n.max(1))) as i64;
        let created = base + Duration::seconds(offset + r.below(6 * 3600) as i64);
        let updated = created + Duration::seconds(r.below(30 * 86_400) as i64);
        (created, updated.min(self.anchor))
    }

    fn address(&self, r: &mut Rng, city: &City) -> (Val, String) {
        let (code, district) = if city.districts.is_empty() {
            (Val::Null, String::new())
        } else {
            let d = r.pick(&city.districts);
            (text(d.0.clone()), d.1.clone())
        };
        let mut a = format!("{district}{}{}号", r.pick(STREETS), 1 + r.below(999));
        if r.chance(40) {
            a += &format!(
                "{}座{}室",
                ["A", "B", "C", "D"][r.index(4)],
                101 + r.below(2000)
            );
        }
        (code, a)
    }

    /// Customers `from..to` of this run (indexes within the run), with their contacts and
    /// organisations. Batches must be generated in order and start at multiples of ten.
    pub fn batch(&mut self, from: u64, to: u64) -> Batch {
        let mut b = Batch::default();
        for j in from..to.min(self.n) {
            self.customer(j, &mut b);
        }
        if self.grams {
            super::search_index::add(&mut b, self.documents);
        }
        b
    }

    fn customer(&mut self, j: u64, b: &mut Batch) {
        let g = self.start.customers_before + j;
        let mut r = Rng::for_item(self.seed, 10, g);
        let p = self.names.apply(g);
        let nc = self.cities.len() as u64;
        let nb = (BRAND_FIRST.len() * BRAND_SECOND.len()) as u64;
        let (ci, bi, wi) = (p % nc, (p / nc) % nb, p / (nc * nb));
        let city = &self.cities[ci as usize];
        let (word, industry) = INDUSTRY_WORDS[wi as usize];
        let form = FORMS[r.weighted(&FORMS.iter().map(|f| f.1).collect::<Vec<_>>())].0;
        let mut name = format!("{}{}{word}{form}", city.prefix, brand(bi as usize));
        if g >= self.name_space {
            name += &format!("（{}）", g / self.name_space + 1);
        }
        let owners = self
            .owners
            .iter()
            .find(|o| o.0 == city.territory)
            .map(|o| &o.1[..])
            .unwrap_or_default();
        let owner = r.pick(owners).clone();
        let (created, updated) = self.created(&mut r, j);
        let industry = if self.dict.industry.iter().any(|c| c == industry) {
            text(industry)
        } else {
            code(&mut r, &self.dict.industry, &[])
        };
        let (region, address) = self.address(&mut r, city);
        let phone = format!("{}-{}", city.area_code, 20_000_000 + self.phones.apply(g));
        let bp = self.brand_pinyin[bi as usize].clone();
        let id = self.start.customer_id + j as i64;
        let common = |created, updated| {
            vec![
                Val::Int(owner.id),
                Val::Int(owner.department_id),
                Val::Int(owner.id),
                Val::Time(created),
                Val::Int(owner.id),
                Val::Time(updated),
            ]
        };
        if j.is_multiple_of(CUSTOMERS_PER_ORGANISATION) {
            let o = j / CUSTOMERS_PER_ORGANISATION;
            let org = self.organisation(o, city, bi as usize, &owner, created);
            b.organisations.push(org);
        }
        let org_id = self.start.organisation_id + (j / CUSTOMERS_PER_ORGANISATION) as i64;
        let mut row = vec![Val::Int(id)];
        row.extend(common(created, updated));
        let customer_type = code(&mut r, &self.dict.customer_type, &[15, 35, 30, 20]);
        row.extend([
            text(guanxi_web::pinyin::initials(&name)),
            customer_type.clone(),
            code(&mut r, &self.dict.customer_source, &[25, 30, 20, 10, 5, 10]),
            industry,
            code(&mut r, &self.dict.customer_level, &[15, 55, 30]),
            region,
            text(address),
            text(phone.clone()),
            maybe(&mut r, 40, |_| format!("www.{bp}.example.com")),
            maybe(&mut r, 20, |r| r.pick(TAGS).to_string()),
            maybe(&mut r, 10, |r| r.pick(NOTES).to_string()),
        ]);
        row.insert(7, text(name));
        let count = 1 + r.weighted(&[20, 20, 25, 20, 15]) as u64;
        let mut people = Vec::with_capacity(count as usize);
        for k in 0..count {
            let c = self.start.contacts_before + self.contacts;
            let mut cr = Rng::for_item(self.seed, 11, c);
            let (person, male) = person_name(&mut cr);
            let g = if male { "male" } else { "female" };
            let gender = if self.dict.gender.iter().any(|c| c == g) {
                text(g)
            } else {
                Val::Null
            };
            let mobile = format!(
                "{}{:08}",
                cr.pick(MOBILE_PREFIXES),
                self.mobiles.apply(c % 100_000_000)
            );
            let title = TITLES[cr.weighted(&TITLES.iter().map(|t| t.1).collect::<Vec<_>>())].0;
            let birthday = if cr.chance(30) {
                NaiveDate::from_ymd_opt(1965, 1, 1)
                    .map(|d| d + Duration::days(cr.below(35 * 365) as i64))
                    .map_or(Val::Null, Val::Date)
            } else {
                Val::Null
            };
            let (created, updated) = (created, updated + Duration::seconds(k as i64));
            let contact_id = self.start.contact_id + self.contacts as i64;
            people.push((contact_id, person.clone()));
            let mut row = vec![Val::Int(contact_id)];
            row.extend(common(created, updated));
            row.extend([
                text(person.clone()),
                gender,
                text(title),
                text(mobile.clone()),
                if cr.chance(25) {
                    text(phone.clone())
                } else {
                    Val::Null
                },
                maybe(&mut cr, 70, |_| {
                    format!("{}@{bp}.example.com", full_pinyin(&person))
                }),
                maybe(&mut cr, 40, |_| mobile.clone()),
                birthday,
                Val::Int(id),
                if k == 0 { Val::Int(org_id) } else { Val::Null },
                Val::Bool(k == 0),
            ]);
            b.contacts.push(row);
            self.contacts += 1;
        }
        let customer = activity::Customer {
            id,
            index: g,
            owner: &owner,
            created,
            customer_type: match &customer_type {
                Val::Text(t) => Some(t.as_str()),
                _ => None,
            },
            contacts: &people,
        };
        let a = self
            .activity
            .customer(self.seed, &customer, &mut self.next_follow_up, b);
        if let Some(released) = a.released_at {
            // In a pool: no owner, no department (what a fall-back or a release leaves).
            row[1] = Val::Null;
            row[2] = Val::Null;
            row[6] = Val::Time(updated.max(released));
            b.pooled += 1;
        }
        b.due += u64::from(a.fall_back_at.is_some_and(|t| t <= self.activity.now));
        b.appointments += u64::from(a.appointment);
        let time = |t: Option<DateTime<Utc>>| t.map_or(Val::Null, Val::Time);
        row.extend([
            Val::Int(a.score),
            time(a.last_follow_up_at),
            a.pool_id.map_or(Val::Null, Val::Int),
            time(a.fall_back_at),
            time(a.released_at),
        ]);
        if let Some(w) = a.warn_at {
            b.warnings.push(vec![Val::Int(id), Val::Time(w)]);
        }
        b.customers.push(row);
    }

    fn organisation(
        &self,
        o: u64,
        city: &City,
        brand_index: usize,
        owner: &DemoUser,
        created: DateTime<Utc>,
    ) -> Vec<Val> {
        let g = self.start.organisations_before + o;
        let mut r = Rng::for_item(self.seed, 12, g);
        let p = self.org_names.apply(g);
        let nb = (BRAND_FIRST.len() * BRAND_SECOND.len()) as u64;
        // A group in one of the cities, unique by the bijection of its index.
        let (city, b, form) = if g < self.org_space {
            let nc = self.cities.len() as u64;
            (
                &self.cities[(p % nc) as usize],
                ((p / nc) % nb) as usize,
                ORG_FORMS[(p / (nc * nb)) as usize % ORG_FORMS.len()],
            )
        } else {
            (city, brand_index, ORG_FORMS[0])
        };
        let prefix = city.prefix;
        let mut name = format!("{prefix}{}{form}", brand(b));
        if g >= self.org_space {
            name += &format!("（{}）", g / self.org_space + 1);
        }
        let (_, address) = self.address(&mut r, city);
        let region = city.districts.first().map_or("000000".to_owned(), |d| {
            format!("{}00", &d.0[..4.min(d.0.len())])
        });
        vec![
            Val::Int(self.start.organisation_id + o as i64),
            Val::Int(owner.id),
            Val::Int(owner.department_id),
            Val::Int(owner.id),
            Val::Time(created),
            Val::Int(owner.id),
            Val::Time(created),
            text(name),
            text(credit_code(&mut r, &region)),
            code(&mut r, &self.dict.industry, &[]),
            text(address),
        ]
    }
}

fn brand(b: usize) -> String {
    format!(
        "{}{}",
        BRAND_FIRST[b % BRAND_FIRST.len()],
        BRAND_SECOND[(b / BRAND_FIRST.len()) % BRAND_SECOND.len()]
    )
}

/// A unified social credit code with a valid check character: "91" (enterprise), the region's
/// six digits, nine random characters of the code set, and the check character — found by asking
/// the validator, so the rule lives in one place.
pub fn credit_code(r: &mut Rng, region: &str) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    let mut s = format!("91{region}");
    for _ in 0..9 {
        s.push(CHARS[r.index(CHARS.len())] as char);
    }
    for c in CHARS {
        let candidate = format!("{s}{}", *c as char);
        if guanxi_core::engine::valid_credit_code(&candidate) {
            return candidate;
        }
    }
    s
}
