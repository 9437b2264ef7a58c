//! Any bytes through the whole import parsing path: format detection, decoding, delimiter
//! sniffing, CSV tokenising, zip checks, the worksheet reader and both date parsers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    guanxi_io::fuzz_one(data);
});
