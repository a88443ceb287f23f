//! The benchmark floor: read every record of a CSV with the csv crate and do
//! nothing else. `cargo run --release --example csv_floor -- portfolio.csv`.

fn main() {
    let path = std::env::args().nth(1).expect("usage: csv_floor FILE");
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(&path)
        .expect("open");
    let mut record = csv::ByteRecord::new();
    let (mut rows, mut bytes) = (0u64, 0u64);
    while rdr.read_byte_record(&mut record).expect("read") {
        rows += 1;
        bytes += record.as_slice().len() as u64;
    }
    println!("{rows} records, {bytes} bytes of fields");
}
