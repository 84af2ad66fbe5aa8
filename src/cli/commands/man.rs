//! `man`: the manual page (roff), generated from the clap definition, with a
//! section per subcommand.

use clap::CommandFactory;

use crate::cli::args::{Cli, ManArgs};
use crate::cli::exit::{CommandResult, ExitStatus};
use crate::cli::printer::Printer;

/// Prints `zadig-sync(1)` on stdout.
pub fn run(_args: &ManArgs, printer: &Printer) -> CommandResult {
    printer.out(&render()?)?;
    Ok(ExitStatus::Success)
}

/// The page: the top-level page, then each subcommand's options and
/// arguments under its own heading.
pub fn render() -> anyhow::Result<String> {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let about = sub.get_about().map(|a| a.to_string()).unwrap_or_default();
        out.extend_from_slice(format!(".SH \"ZADIG-SYNC {}\"\n", name.to_uppercase()).as_bytes());
        out.extend_from_slice(format!("{}\n", roff_escape(&about)).as_bytes());
        let page = clap_mangen::Man::new(sub.clone().bin_name(format!("zadig-sync {name}")));
        let mut section = Vec::new();
        page.render_synopsis_section(&mut section)?;
        page.render_options_section(&mut section)?;
        // Each part renders as `.SH NAME`: demote to sub-headings of this command.
        let section = String::from_utf8_lossy(&section).replace(".SH ", ".SS ");
        out.extend_from_slice(section.as_bytes());
    }
    man.render_version_section(&mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Text that starts a roff line must not start with `.` or `'`.
fn roff_escape(text: &str) -> String {
    let text = text.replace('\\', "\\\\");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}
