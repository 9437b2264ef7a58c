//! The HTTP measurements: list, quick search, detail, create and update, and the static route,
//! as a salesperson (own records), a sales manager (department and below) and the administrator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use reqwest::Client;
use serde_json::{Value, json};

use super::drive::{Budget, Sample, drive};
use super::report::{Goal, Row};
use crate::rng::Rng;
use crate::words::{BRAND_FIRST, BRAND_SECOND, CITIES, INDUSTRY_WORDS};

/// A signed-in user's client (bearer token in every request).
#[derive(Clone)]
pub struct User {
    pub label: String,
    pub client: Client,
}

pub struct Scenarios {
    pub base: String,
    pub sales: User,
    pub manager: User,
    pub admin: User,
    pub budget: Budget,
    /// Concurrency levels of the list measurements.
    pub levels: Vec<usize>,
    pub seed: u64,
}

/// Signs in through the API and returns a client that sends the token.
pub async fn login(
    base: &str,
    label: &str,
    username: &str,
    password: &str,
) -> anyhow::Result<User> {
    let r = plain_client(None)?
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await?;
    let status = r.status();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    let token = body["token"]
        .as_str()
        .filter(|_| status.is_success())
        .ok_or_else(|| anyhow::anyhow!("login as {username} failed ({status}): {body}"))?;
    Ok(User {
        label: format!("{label} ({username})"),
        client: plain_client(Some(token))?,
    })
}

fn plain_client(token: Option<&str>) -> anyhow::Result<Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        headers.insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_str(&format!("Bearer {t}"))?,
        );
    }
    Ok(Client::builder()
        .no_proxy()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(256)
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

async fn get_ok(client: &Client, url: &str) -> bool {
    match client.get(url).send().await {
        Ok(r) => {
            let ok = r.status().is_success();
            ok && r.bytes().await.is_ok()
        }
        Err(_) => false,
    }
}

/// GETs `urls` round-robin.
async fn get_urls(user: &User, clients: usize, budget: Budget, urls: Vec<String>) -> Sample {
    let urls = Arc::new(urls);
    let client = user.client.clone();
    drive(clients, budget, move |i| {
        let (client, urls) = (client.clone(), urls.clone());
        async move { get_ok(&client, &urls[(i % urls.len() as u64) as usize]).await }
    })
    .await
}

fn url(base: &str, path: &str, params: &[(&str, &str)]) -> String {
    reqwest::Url::parse_with_params(&format!("{base}{path}"), params)
        .map_or_else(|_| format!("{base}{path}"), |u| u.to_string())
}

/// Quick-search terms of each kind, all of which occur in the generated names and phones.
pub fn search_terms(seed: u64) -> Vec<(&'static str, Vec<String>)> {
    let mut r = Rng::for_item(seed, 200, 0);
    let two_char_cities: Vec<&str> = CITIES
        .iter()
        .map(|c| c.0)
        .filter(|c| c.chars().count() == 2)
        .collect();
    let brand = |r: &mut Rng| format!("{}{}", r.pick(BRAND_FIRST), r.pick(BRAND_SECOND));
    vec![
        (
            "1 Chinese character",
            (0..50).map(|_| r.pick(BRAND_FIRST).to_string()).collect(),
        ),
        (
            "2 Chinese characters",
            (0..50).map(|_| brand(&mut r)).collect(),
        ),
        (
            "3 Chinese characters",
            (0..50)
                .map(|_| format!("{}{}", r.pick(&two_char_cities), r.pick(BRAND_FIRST)))
                .collect(),
        ),
        (
            "phone fragment (4 digits)",
            (0..50).map(|_| format!("{:04}", r.below(10_000))).collect(),
        ),
        (
            "pinyin initials",
            two_char_cities
                .iter()
                .map(|c| guanxi_web::pinyin::initials(c))
                .filter(|p| p.len() >= 2)
                .collect(),
        ),
    ]
}

impl Scenarios {
    fn users(&self) -> [&User; 3] {
        [&self.sales, &self.manager, &self.admin]
    }

    /// The static route, the stack's ceiling: one row per concurrency level.
    pub async fn static_route(&self, rows: &mut Vec<Row>) {
        for &c in &self.levels {
            let urls = vec![format!("{}/assets/app.css", self.base)];
            let s = get_urls(&self.sales, c, self.budget, urls).await;
            rows.push(Row::new(
                "static route (ceiling)",
                "GET /assets/app.css",
                "—",
                c,
                &s,
                Goal::None,
            ));
        }
    }

    /// List API and list page: 50 rows, filtered by industry, sorted by name, in each scope.
    pub async fn lists(&self, rows: &mut Vec<Row>) {
        let mut codes: Vec<&str> = INDUSTRY_WORDS.iter().map(|w| w.1).collect();
        codes.dedup();
        for (path, name) in [
            ("/api/v1/customers", "list API"),
            ("/customers", "list page (HTML)"),
        ] {
            for user in self.users() {
                for &c in &self.levels {
                    let urls = codes
                        .iter()
                        .map(|code| {
                            url(
                                &self.base,
                                path,
                                &[
                                    ("limit", "50"),
                                    ("sort", "name"),
                                    ("order", "asc"),
                                    ("f.industry.eq", code),
                                ],
                            )
                        })
                        .collect();
                    let s = get_urls(user, c, self.budget, urls).await;
                    // 64 clients on two CPUs measure saturation: by Little's law each request
                    // waits for the others, so the latency goal is held at 1 and 16 clients.
                    let goal = if c <= 16 {
                        Goal::P95AtMostMs(20.0)
                    } else {
                        Goal::None
                    };
                    rows.push(Row::new(
                        "list: 50 rows, filter industry, sort name",
                        name,
                        &user.label,
                        c,
                        &s,
                        goal,
                    ));
                }
            }
        }
    }

    /// Quick search of each kind, one client, in each scope.
    pub async fn search(&self, rows: &mut Vec<Row>) {
        for (kind, terms) in search_terms(self.seed) {
            for user in self.users() {
                let urls = terms
                    .iter()
                    .map(|t| {
                        url(
                            &self.base,
                            "/api/v1/customers",
                            &[("q", t), ("limit", "50")],
                        )
                    })
                    .collect();
                let s = get_urls(user, 1, self.budget, urls).await;
                rows.push(Row::new(
                    "quick search (API, 50 rows)",
                    kind,
                    &user.label,
                    1,
                    &s,
                    Goal::P95AtMostMs(30.0),
                ));
            }
        }
    }

    /// Ids of records the salesperson may see.
    async fn own_ids(&self) -> Vec<i64> {
        let u = url(&self.base, "/api/v1/customers", &[("limit", "500")]);
        let Ok(r) = self.sales.client.get(u).send().await else {
            return vec![];
        };
        let v: Value = r.json().await.unwrap_or(Value::Null);
        v["items"]
            .as_array()
            .map(|a| a.iter().filter_map(|i| i["id"].as_i64()).collect())
            .unwrap_or_default()
    }

    /// Detail page and record API, as the salesperson, over their own records.
    pub async fn detail(&self, rows: &mut Vec<Row>) {
        let ids = self.own_ids().await;
        for (prefix, name, goal) in [
            (
                "/customers/",
                "detail page (HTML)",
                Goal::ThroughputAtLeast(10_000.0),
            ),
            ("/api/v1/customers/", "record API", Goal::None),
        ] {
            for c in [1, *self.levels.last().unwrap_or(&16)] {
                let urls: Vec<String> = ids
                    .iter()
                    .map(|id| format!("{}{prefix}{id}", self.base))
                    .collect();
                let s = if urls.is_empty() {
                    Sample::default()
                } else {
                    get_urls(&self.sales, c, self.budget, urls).await
                };
                let goal = if c == 1 { Goal::None } else { goal };
                rows.push(Row::new("detail", name, &self.sales.label, c, &s, goal));
            }
        }
    }

    /// Creates customers, then updates them (PATCH with their version), through the API.
    pub async fn writes(&self, rows: &mut Vec<Row>, run: &str, clients: usize) {
        let created = Arc::new(std::sync::Mutex::new(Vec::<(i64, i64)>::new()));
        let (client, base, sink, run) = (
            self.sales.client.clone(),
            self.base.clone(),
            created.clone(),
            run.to_owned(),
        );
        let mut budget = self.budget;
        budget.warmup = 0;
        let s = drive(clients, budget, move |i| {
            let (client, base, sink) = (client.clone(), base.clone(), sink.clone());
            let body = json!({
                "name": format!("基准测试客户 {run}-{i}"),
                "industry": "it",
                "notes": "created by guanxi bench",
            });
            async move {
                let Ok(r) = client
                    .post(format!("{base}/api/v1/customers"))
                    .json(&body)
                    .send()
                    .await
                else {
                    return false;
                };
                if !r.status().is_success() {
                    return false;
                }
                let v: Value = r.json().await.unwrap_or(Value::Null);
                match (v["id"].as_i64(), v["version"].as_i64()) {
                    (Some(id), Some(ver)) => {
                        if let Ok(mut c) = sink.lock() {
                            c.push((id, ver));
                        }
                        true
                    }
                    _ => false,
                }
            }
        })
        .await;
        rows.push(Row::new(
            "writes",
            "create (POST)",
            &self.sales.label,
            clients,
            &s,
            Goal::None,
        ));
        // (id, version, being updated): a record is updated by one client at a time, so a
        // version conflict is a real error, not the harness racing itself.
        let records: Vec<(i64, AtomicI64, AtomicBool)> = created
            .lock()
            .map(|c| {
                c.iter()
                    .map(|(id, v)| (*id, AtomicI64::new(*v), AtomicBool::new(false)))
                    .collect()
            })
            .unwrap_or_default();
        let update_clients = clients.min(records.len());
        let records = Arc::new(records);
        let (client, base) = (self.sales.client.clone(), self.base.clone());
        let s = if records.is_empty() {
            Sample::default()
        } else {
            drive(update_clients, budget, move |i| {
                let (client, base, records) = (client.clone(), base.clone(), records.clone());
                async move {
                    let n = records.len();
                    let Some((id, version, busy)) =
                        (0..n).map(|k| &records[(i as usize + k) % n]).find(|r| {
                            r.2.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
                                .is_ok()
                        })
                    else {
                        return false;
                    };
                    let ok = update(&client, &base, *id, version, i).await;
                    busy.store(false, Ordering::Release);
                    ok
                }
            })
            .await
        };
        rows.push(Row::new(
            "writes",
            "update (PATCH with version)",
            &self.sales.label,
            update_clients,
            &s,
            Goal::None,
        ));
    }
}

/// One PATCH with the record's known version; keeps the version the server answers.
async fn update(client: &Client, base: &str, id: i64, version: &AtomicI64, i: u64) -> bool {
    let body = json!({
        "version": version.load(Ordering::Relaxed),
        "notes": format!("updated by guanxi bench ({i})"),
    });
    let Ok(r) = client
        .patch(format!("{base}/api/v1/customers/{id}"))
        .json(&body)
        .send()
        .await
    else {
        return false;
    };
    if !r.status().is_success() {
        return false;
    }
    let v: Value = r.json().await.unwrap_or(Value::Null);
    match v["version"].as_i64() {
        Some(n) => {
            version.store(n, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

/// Fills `of_static` from the static route's throughput at the same concurrency.
pub fn relate_to_static(rows: &mut [Row]) {
    let ceiling: Vec<(usize, f64)> = rows
        .iter()
        .filter(|r| r.group.starts_with("static"))
        .map(|r| (r.clients, r.req_per_sec))
        .collect();
    for r in rows.iter_mut().filter(|r| !r.group.starts_with("static")) {
        r.of_static = ceiling
            .iter()
            .find(|(c, _)| *c == r.clients)
            .filter(|(_, rps)| *rps > 0.0)
            .map(|(_, rps)| r.req_per_sec / rps);
    }
}
