//! Throughput and peak memory of the writers and readers on a million rows of 12 columns.
//!
//! One phase per process, so each peak-RSS figure is that phase's own:
//!
//! ```text
//! cargo run --release -p guanxi-io --example io_speed -- xlsx-write /tmp/speed.xlsx
//! cargo run --release -p guanxi-io --example io_speed -- xlsx-read  /tmp/speed.xlsx
//! cargo run --release -p guanxi-io --example io_speed -- csv-write  /tmp/speed.csv
//! cargo run --release -p guanxi-io --example io_speed -- csv-read   /tmp/speed.csv
//! ```
//!
//! An optional third argument sets the row count (default 1,000,000).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::Instant;

use chrono::{Duration, NaiveDate};
use guanxi_io::{Cell, CsvWriter, Limits, XlsxWriter, open};

const HEADERS: [&str; 12] = [
    "编号",
    "姓名",
    "手机",
    "邮箱",
    "公司",
    "等级",
    "金额",
    "创建日期",
    "最近联系",
    "VIP",
    "备注",
    "城市",
];
const CITIES: [&str; 4] = ["北京", "上海", "深圳", "杭州"];

fn row(i: i64) -> Vec<Cell> {
    let base = NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or_default();
    let created = base + Duration::days(i % 1500);
    let contact = created.and_hms_opt(9, 30, 0).unwrap_or_default() + Duration::minutes(i % 600);
    vec![
        Cell::Int(i),
        Cell::Text(format!("客户{i}")),
        Cell::Int(13_800_000_000 + i),
        Cell::Text(format!("user{i}@example.com")),
        Cell::Text(format!("星辰科技{}有限公司", i % 997)),
        Cell::Text(["A", "B", "C"][(i % 3) as usize].to_owned()),
        Cell::Number(i as f64 * 1.25),
        Cell::Date(created),
        Cell::DateTime(contact),
        Cell::Bool(i % 2 == 0),
        Cell::Text("每周回访，关注报价进度".to_owned()),
        Cell::Text(CITIES[(i % 4) as usize].to_owned()),
    ]
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(s) => s.clone(),
        Cell::Number(n) => n.to_string(),
        Cell::Int(i) => i.to_string(),
        Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
        Cell::DateTime(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
        Cell::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        Cell::Empty => String::new(),
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn run(phase: &str, path: &Path, rows: i64) -> Result<u64, Box<dyn std::error::Error>> {
    let headers: Vec<String> = HEADERS.iter().map(|h| (*h).to_owned()).collect();
    match phase {
        "xlsx-write" => {
            let mut writer = XlsxWriter::new("客户")?;
            writer.header(&headers)?;
            for i in 0..rows {
                writer.write_row(&row(i))?;
            }
            writer.save(path)?;
            Ok(rows as u64)
        }
        "csv-write" => {
            let mut writer = CsvWriter::new(BufWriter::new(File::create(path)?))?;
            writer.write_row(&headers)?;
            for i in 0..rows {
                writer.write_row(row(i).iter().map(text))?;
            }
            writer.finish()?;
            Ok(rows as u64)
        }
        "xlsx-read" | "csv-read" => {
            let reader = open(path, None, &Limits::default())?;
            let mut count = 0;
            for row in reader {
                row?;
                count += 1;
            }
            Ok(count)
        }
        _ => Err(format!("unknown phase {phase}").into()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(phase), Some(path)) = (args.get(1), args.get(2)) else {
        return Err("usage: io_speed PHASE PATH [ROWS]".into());
    };
    let rows = args
        .get(3)
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let count = run(phase, Path::new(path), rows)?;
    let seconds = started.elapsed().as_secs_f64();
    let size = std::fs::metadata(path)?.len() as f64 / 1e6;
    println!(
        "{phase}: {count} rows in {seconds:.1} s = {:.0} rows/s, file {size:.0} MB, peak RSS {:.0} MB",
        count as f64 / seconds,
        peak_rss_mb()
    );
    Ok(())
}
