//! Import and export at scale, measured the way an operator runs them: `guanxi import` and
//! `guanxi export` as child processes against a fresh database, on files of demo customers
//! (CSV and XLSX), timing the whole command and sampling its peak resident memory.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use guanxi_store::Db;
use guanxi_store::bulk::Val;

use super::report::{Figure, Goal};
use crate::demo;

/// The columns of the import file: the demo's customer values under their Chinese labels.
const COLUMNS: &[(&str, &str)] = &[
    ("name", "客户名称"),
    ("customer_type", "客户类型"),
    ("source", "客户来源"),
    ("industry", "行业"),
    ("level", "客户级别"),
    ("region", "地区"),
    ("address", "地址"),
    ("phone", "电话"),
    ("website", "网址"),
    ("notes", "备注"),
];

fn text(v: &Val) -> String {
    match v {
        Val::Text(s) => s.clone(),
        Val::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

/// Writes `rows` demo customers as CSV and XLSX files in `dir`.
async fn write_files(db: &Db, seed: u64, rows: u64, dir: &Path) -> anyhow::Result<()> {
    let mut generator = demo::generator(db, seed, rows)
        .await?
        .without_search_index();
    let idx: Vec<usize> = COLUMNS
        .iter()
        .map(|(c, _)| {
            demo::generate::CUSTOMER_COLUMNS
                .iter()
                .position(|x| x == c)
                .ok_or_else(|| anyhow::anyhow!("no column {c}"))
        })
        .collect::<anyhow::Result<_>>()?;
    let dir = dir.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let headers: Vec<String> = COLUMNS.iter().map(|(_, h)| (*h).to_owned()).collect();
        let mut csv = guanxi_io::CsvWriter::new(std::io::BufWriter::new(std::fs::File::create(
            dir.join("customers.csv"),
        )?))?;
        csv.write_row(&headers)?;
        let mut xlsx = guanxi_io::XlsxWriter::new("客户")?;
        xlsx.header(&headers)?;
        let mut from = 0;
        while from < rows {
            let to = (from + 5_000).min(rows);
            for r in generator.batch(from, to).customers {
                let cells: Vec<String> = idx.iter().map(|i| text(&r[*i])).collect();
                csv.write_row(&cells)?;
                let cells: Vec<guanxi_io::Cell> =
                    cells.into_iter().map(guanxi_io::Cell::Text).collect();
                xlsx.write_row(&cells)?;
            }
            from = to;
        }
        csv.finish()?;
        xlsx.save(&dir.join("customers.xlsx"))?;
        Ok(())
    })
    .await??;
    Ok(())
}

/// Reads a child's pipe to the end on a thread of its own, so that a talkative child never
/// blocks on a full pipe while it is being watched.
fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = vec![];
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// Runs `exe args…`, sampling its peak resident memory; returns (seconds, peak MiB, its output).
pub(super) fn run(exe: &Path, args: &[&str]) -> anyhow::Result<(f64, f64, String)> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(args)
        .env("GUANXI_LOG", "warn")
        .env_remove("GUANXI_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let pid = child.id();
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(kib) = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmHWM:"))
                    .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            })
        {
            peak = peak.max(kib / 1024.0);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let secs = started.elapsed().as_secs_f64();
    let read = |h: std::thread::JoinHandle<Vec<u8>>| h.join().unwrap_or_default();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&read(stdout)),
        String::from_utf8_lossy(&read(stderr))
    );
    if !status.success() {
        anyhow::bail!("{} {} failed: {text}", exe.display(), args.join(" "));
    }
    Ok((secs, peak, text))
}

/// Import of `rows` customers from CSV and from XLSX (each into its own fresh database), and
/// export of them to CSV and XLSX. `scratch_urls` are two empty databases (CSV, XLSX).
pub async fn measure(
    exe: &Path,
    db: &Db,
    seed: u64,
    rows: u64,
    scratch_urls: &[String],
    raw_rate: Option<f64>,
    is_pg: bool,
) -> anyhow::Result<Vec<Figure>> {
    let dir = tempfile::tempdir()?;
    eprintln!("writing {rows} customers as CSV and XLSX…");
    write_files(db, seed, rows, dir.path()).await?;
    let goal = if is_pg { 50_000.0 } else { 100_000.0 };
    let mut out = vec![];
    let ratio = |rate: f64| {
        raw_rate.map_or(String::new(), |r| {
            format!(
                "; {:.0} % of the raw insert rate above (indexes built after)",
                rate / r * 100.0
            )
        })
    };
    let mut last_url = String::new();
    for (format, url) in ["csv", "xlsx"].into_iter().zip(scratch_urls) {
        let url = url.clone();
        let u = ["--database-url", url.as_str()];
        run(
            exe,
            &[
                u[0],
                u[1],
                "user",
                "add",
                "admin",
                "--role",
                "admin",
                "--password",
                "bench-admin-password-1",
            ],
        )?;
        let file = dir.path().join(format!("customers.{format}"));
        let size = std::fs::metadata(&file)?.len();
        eprintln!("importing {rows} customers from {format}…");
        let (secs, peak, _) = run(
            exe,
            &[u[0], u[1], "import", "customers", &file.to_string_lossy()],
        )?;
        let rate = rows as f64 / secs;
        out.push(Figure::new(
            &format!("import {} customers from {} (`guanxi import`)", super::report::thousands(rows as f64), format.to_uppercase()),
            rate,
            "rows/s",
            format!(
                "{:.1} s for a {:.0} MB file into an empty database: reading, checks (types, dictionary, duplicates in the file and in the database), \
                 records, change history, search index and audit, checked in chunks of {} rows (the next one while one is written), committed every {} rows; peak memory {peak:.0} MB{}",
                secs,
                size as f64 / 1e6,
                super::report::thousands(guanxi_web::services::imports::run::BATCH as f64),
                super::report::thousands(if is_pg {
                    guanxi_web::services::imports::run::CHUNK
                } else {
                    guanxi_web::services::imports::run::CLI_TX_ROWS
                } as f64),
                ratio(rate)
            ),
            Goal::AtLeast(goal),
        ));
        out.push(Figure::new(
            &format!("import peak memory ({})", format.to_uppercase()),
            peak,
            "MB",
            "VmHWM of the `guanxi import` process",
            Goal::AtMostMib(200.0),
        ));
        last_url = url;
    }
    for format in ["csv", "xlsx"] {
        let target = dir.path().join(format!("export.{format}"));
        eprintln!("exporting to {format}…");
        let (secs, peak, _) = run(
            exe,
            &[
                "--database-url",
                &last_url,
                "export",
                "customers",
                "--format",
                format,
                "-o",
                &target.to_string_lossy(),
            ],
        )?;
        out.push(Figure::new(
            &format!("export {} customers to {} (`guanxi export`)", super::report::thousands(rows as f64), format.to_uppercase()),
            rows as f64 / secs,
            "rows/s",
            format!("{secs:.1} s, every field shown as the pages show it (labels, names, yuan); peak memory {peak:.0} MB"),
            if format == "csv" { Goal::AtLeast(200_000.0) } else { Goal::None },
        ));
    }
    Ok(out)
}
