//! `sim completions SHELL` and `sim man`: shell completion scripts and the man page, both made
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

/// Prints the man page in roff (`sim man > sim.1; man ./sim.1`).
pub fn man(command: Command) -> Exit {
    let mut page = Vec::new();
    if let Err(err) = clap_mangen::Man::new(command).render(&mut page) {
        errln!("error: cannot render the man page: {err}");
        return Exit::BadInput;
    }
    out!("{}", String::from_utf8_lossy(&page));
    Exit::Pass
}
