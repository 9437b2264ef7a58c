//! What the binary's tests share: a PostgreSQL database of their own, when
//! `GUANXI_TEST_DATABASE_URL` names a server.

/// A new database's URL on the server `GUANXI_TEST_DATABASE_URL` names (`guanxi_{name}_{pid}`),
/// if it names one.
pub fn pg_database(name: &str) -> Option<String> {
    let base = std::env::var("GUANXI_TEST_DATABASE_URL").ok()?;
    if !base.starts_with("postgres") {
        return None;
    }
    let name = format!("guanxi_{name}_{}", std::process::id());
    Some(match base.rfind('/') {
        Some(i) if i > base.find("://").map_or(0, |s| s + 2) => format!("{}/{name}", &base[..i]),
        _ => format!("{base}/{name}"),
    })
}

/// Drops the test's PostgreSQL database at the end, passed or failed.
pub struct DropDatabase(pub String);

impl Drop for DropDatabase {
    fn drop(&mut self) {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            let _ = rt.block_on(guanxi_store::bulk::drop_pg_database(&self.0));
        }
    }
}
