//! CLI behaviour as data: every `tests/cmd/*.toml` case runs the binary and
//! compares exit code, stdout and stderr with the `.stdout`/`.stderr` files.
//! Regenerate after an intended change with `TRYCMD=overwrite cargo test --test cli`.

#[test]
fn cli_cases() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
