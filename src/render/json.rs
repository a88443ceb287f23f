//! JSON: the whole [`Assessment`] model, `schema_version` first, field order
//! fixed by the struct definitions.

use std::io::Write;

use anyhow::Result;

use crate::assess::Assessment;

pub fn render(a: &Assessment, out: &mut impl Write) -> Result<()> {
    serde_json::to_writer_pretty(&mut *out, a)?;
    out.write_all(b"\n")?;
    Ok(())
}
