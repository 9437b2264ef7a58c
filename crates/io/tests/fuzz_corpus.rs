//! The fuzz target's property, checked on stable Rust in every CI run: `fuzz_one` never panics
//! on real seeds or on a few thousand deterministic mutations of them. (`cargo +nightly fuzz
//! run parse` in `fuzz/` explores much further.)

use std::io::{Cursor, Read, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use chrono::NaiveDate;
use guanxi_io::{Cell, XlsxWriter, fuzz_one};
use zip::write::SimpleFileOptions;

/// Byte mutations of the seed files and XML mutations inside the workbooks, scaled by the
/// environment variable `FUZZ_SCALE` (default 1) for a longer run by hand.
const BYTE_MUTATIONS: usize = 2_400;
const XML_MUTATIONS: usize = 600;

fn scale() -> usize {
    std::env::var("FUZZ_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
}

/// xorshift64: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn ok<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("{e}"))
}

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    ok(std::fs::read(path))
}

fn own_workbook() -> Vec<u8> {
    let date = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap_or_default();
    let mut writer = ok(XlsxWriter::new("客户"));
    ok(writer.header(&["姓名".to_owned(), "手机".to_owned(), "日期".to_owned()]));
    ok(writer.write_row(&[
        Cell::Text("张三".into()),
        Cell::Int(13_800_138_000),
        Cell::Date(date),
    ]));
    ok(writer.write_row(&[Cell::Bool(true), Cell::Number(0.5), Cell::Empty]));
    ok(writer.save_to_buffer())
}

fn zip_of(entries: &[(String, Vec<u8>)], method: zip::CompressionMethod) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in entries {
        ok(writer.start_file(
            name.as_str(),
            SimpleFileOptions::default().compression_method(method),
        ));
        ok(writer.write_all(data));
    }
    ok(writer.finish()).into_inner()
}

fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = ok(zip::ZipArchive::new(Cursor::new(bytes)));
    (0..archive.len())
        .map(|index| {
            let mut file = ok(archive.by_index(index));
            let mut data = Vec::new();
            ok(file.read_to_end(&mut data));
            (ok(file.name()).into_owned(), data)
        })
        .collect()
}

fn seeds() -> Vec<Vec<u8>> {
    let not_xlsx = zip_of(
        &[("readme.txt".to_owned(), b"hello".to_vec())],
        zip::CompressionMethod::Deflated,
    );
    vec![
        b"name,phone,date\r\nLi,138,2024-01-31\r\n\"Wang\nSr\",\"1\"\"2\",45322.5\r\n".to_vec(),
        fixture("customers_gbk.csv"),
        fixture("customers_utf16.txt"),
        fixture("customers_utf8_bom_semicolon.csv"),
        fixture("customers_libreoffice.xlsx"),
        own_workbook(),
        not_xlsx,
        Vec::new(),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec(),
    ]
}

/// One random edit: bit flips, a truncation, an insertion, a special byte or a repeat.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const SPECIAL: &[u8] = b"\0\xff\",;\t\r\n<>&PK\x81\xe4";
    let mut data = input.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(data.len());
        match rng.below(5) {
            0 if !data.is_empty() => data[at] ^= 1 << rng.below(8),
            1 => data.truncate(at),
            2 => {
                let insert: Vec<u8> = (0..=rng.below(16)).map(|_| rng.next() as u8).collect();
                data.splice(at..at, insert);
            }
            3 if !data.is_empty() => data[at] = SPECIAL[rng.below(SPECIAL.len())],
            _ => {
                let len = rng.below(64).min(data.len() - at);
                let copy = data[at..at + len].to_vec();
                data.splice(at..at, copy);
            }
        }
    }
    data
}

/// Panics on any thread, including the workbook reader's worker, whose panics `fuzz_one`
/// would otherwise see only as a `NotXlsx` error.
static PANICS: AtomicUsize = AtomicUsize::new(0);

#[test]
fn fuzz_one_survives_the_corpus() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICS.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));
    let started = Instant::now();
    let seeds = seeds();
    for seed in &seeds {
        fuzz_one(seed);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let scale = scale();
    for _ in 0..BYTE_MUTATIONS * scale {
        let seed = &seeds[rng.below(seeds.len())];
        fuzz_one(&mutate(&mut rng, seed));
    }
    // Mutating compressed bytes mostly trips checksums; mutate the XML inside the workbooks
    // and re-zip it (stored) so the worksheet parser sees damaged but readable parts.
    let workbooks = [unzip(&seeds[4]), unzip(&seeds[5])];
    for _ in 0..XML_MUTATIONS * scale {
        let mut entries = workbooks[rng.below(workbooks.len())].clone();
        let target = rng.below(entries.len());
        entries[target].1 = mutate(&mut rng, &entries[target].1);
        fuzz_one(&zip_of(&entries, zip::CompressionMethod::Stored));
    }
    eprintln!(
        "{} inputs in {:?}",
        seeds.len() + (BYTE_MUTATIONS + XML_MUTATIONS) * scale,
        started.elapsed()
    );
    assert_eq!(PANICS.load(Ordering::SeqCst), 0, "a thread panicked");
}
