//! How long parsing a JSON-profile request takes: `cargo run --release -p fullmakt-xacml
//! --example parse_speed -- FILE` with one request per line (`pdp-bench requests` writes one).

fn main() {
    let path = std::env::args().nth(1).expect("a file of JSON requests, one per line");
    let text = std::fs::read_to_string(path).expect("readable");
    let lines: Vec<&str> = text.lines().collect();
    for round in 0..5 {
        let started = std::time::Instant::now();
        let mut attributes = 0;
        for line in &lines {
            let request = fullmakt_xacml::parse_request_json(line).expect("a valid request");
            attributes += request.categories.iter().map(|c| c.attributes.len()).sum::<usize>();
        }
        let per = started.elapsed().as_nanos() as f64 / lines.len() as f64;
        println!("round {round}: {per:.0} ns per request ({attributes} attributes)");
    }
}
