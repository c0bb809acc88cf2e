//! `sim completions SHELL` and `sim man`: shell completion scripts and the man pages, both made
//! from the command's own definition, so they cannot drift from it.

use clap::{Args, Command};
use clap_complete::Shell;
use sim::exit::Exit;

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

/// Prints the completion script (`sim completions bash > /etc/bash_completion.d/sim`).
pub fn completions(args: CompletionsArgs, mut command: Command) -> Exit {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "sim", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Exit::Pass
}

#[derive(Args)]
pub struct ManArgs {
    /// Write sim.1 and a page per subcommand (sim-run.1, ...: the pages sim.1 names) into
    /// this folder, e.g. ~/.local/share/man/man1.
    #[arg(long)]
    pub dir: Option<std::path::PathBuf>,
}

/// Prints the man page in roff (`sim man > sim.1; man ./sim.1`), or writes every page.
pub fn man(args: ManArgs, command: Command) -> Exit {
    // `sim help` has no page of its own; `sim --help` and the pages say it all.
    let command = command.disable_help_subcommand(true);
    if let Some(dir) = &args.dir {
        let written =
            std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(command, dir));
        return match written {
            Ok(()) => {
                errln!("wrote the man pages into {}", dir.display());
                Exit::Pass
            }
            Err(err) => {
                errln!("error: --dir {}: {err}", dir.display());
                Exit::BadInput
            }
        };
    }
    let mut page = Vec::new();
    if let Err(err) = clap_mangen::Man::new(command).render(&mut page) {
        errln!("error: cannot render the man page: {err}");
        return Exit::BadInput;
    }
    out!("{}", String::from_utf8_lossy(&page));
    Exit::Pass
}
