//! `zizhu image provision|inspect|bmap|first-boot` and `zizhu flash`: the technician's tools for
//! kiosk OS images (see images/README.md). The work is done in [`crate::image`]; this file parses
//! arguments, asks before erasing a card, prints results (`--json` for scripts) and maps errors to
//! exit codes (2 for bad input or a refused device, 1 for failed operations). Without the `tools`
//! feature (the kiosk's .deb) only `first-boot`, which the kiosk runs, is built.
#[cfg(feature = "tools")]
use std::io::{IsTerminal, Write};
#[cfg(feature = "tools")]
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

#[cfg(feature = "tools")]
use anyhow::Context;

use crate::image::{self, provision};
#[cfg(feature = "tools")]
use crate::image::{bmap::Bmap, fat::ConfigPartition, flash, human_bytes, table, PROVISION_FILE};

/// Subcommands of `zizhu image`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Write the per-kiosk provisioning file onto an image's (or a card's) config partition.
    #[cfg(feature = "tools")]
    Provision(ProvisionArgs),
    /// Show an image's partition table, build information and provisioning (token masked).
    #[cfg(feature = "tools")]
    Inspect(InspectArgs),
    /// Make a block map (.bmap) of an image from its holes, with a SHA-256 per range.
    #[cfg(feature = "tools")]
    Bmap(BmapArgs),
    /// First boot (run by zizhu-provision.service): apply and delete the provisioning file.
    FirstBoot(FirstBootArgs),
}

#[cfg(feature = "tools")]
/// Arguments of `zizhu image provision`.
#[derive(clap::Args, Debug)]
pub struct ProvisionArgs {
    /// The image (.img, not compressed) or a flashed card (/dev/sdX).
    pub image: PathBuf,
    /// Kiosk identifier (A-Z a-z 0-9 - _), e.g. GD-GZ-TH-0042.
    #[arg(long, value_name = "ID")]
    pub kiosk_id: String,
    /// Where the kiosk stands, in words.
    #[arg(long, value_name = "NAME")]
    pub site: String,
    /// Base URL of the service platform.
    #[arg(long, value_name = "URL")]
    pub platform: String,
    /// File holding the one-time enrollment token from the platform.
    #[arg(long, value_name = "FILE")]
    pub enroll_token_file: PathBuf,
    /// Wi-Fi network name (wired Ethernet needs nothing).
    #[arg(long, value_name = "SSID")]
    pub wifi: Option<String>,
    /// File holding the Wi-Fi passphrase (with --wifi).
    #[arg(long, value_name = "FILE", requires = "wifi")]
    pub wifi_psk_file: Option<PathBuf>,
    /// Wi-Fi regulatory country (with --wifi).
    #[arg(long, value_name = "CC", default_value = "CN", requires = "wifi")]
    pub wifi_country: String,
    /// Replace an existing provisioning file.
    #[arg(long)]
    pub force: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "tools")]
/// Arguments of `zizhu image inspect`.
#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The image (.img) or card.
    pub image: PathBuf,
    /// Print as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "tools")]
/// Arguments of `zizhu image bmap`.
#[derive(clap::Args, Debug)]
pub struct BmapArgs {
    /// The image (.img, sparse).
    pub image: PathBuf,
    /// Output file (default: IMAGE.bmap).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Block size in bytes.
    #[arg(long, default_value_t = 4096)]
    pub block_size: u64,
    /// Print a summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `zizhu image first-boot`.
#[derive(clap::Args, Debug)]
pub struct FirstBootArgs {
    /// The provisioning file on the mounted config partition.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/boot/zizhu/zizhu-provision.toml"
    )]
    pub file: PathBuf,
    /// Kiosk config to write (its current content is kept as the template).
    #[arg(long, value_name = "FILE", default_value = "/etc/zizhu/kiosk.toml")]
    pub config: PathBuf,
    /// Kiosk identity file.
    #[arg(long, value_name = "FILE", default_value = "/etc/zizhu/kiosk-id")]
    pub identity: PathBuf,
    /// Data directory on the data partition (the token goes here).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/zizhu")]
    pub data_dir: PathBuf,
    /// Where a failure is written for the kiosk screen.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/var/lib/zizhu/provision-error"
    )]
    pub error_file: PathBuf,
    /// wpa_supplicant file written when the provisioning has Wi-Fi.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "/etc/wpa_supplicant/wpa_supplicant-wlan0.conf"
    )]
    pub wifi_conf: PathBuf,
    /// Account that owns the token file.
    #[arg(long, value_name = "USER", default_value = "zizhu")]
    pub owner: String,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

#[cfg(feature = "tools")]
/// Arguments of `zizhu flash`.
#[derive(clap::Args, Debug)]
pub struct FlashArgs {
    /// The image: .img or .img.xz.
    pub image: PathBuf,
    /// The SD card (a whole block device such as /dev/sdb) or a regular file standing in for one.
    pub device: PathBuf,
    /// Block map (default: IMAGE.bmap beside the image, when there is one).
    #[arg(long, value_name = "FILE", conflicts_with = "no_bmap")]
    pub bmap: Option<PathBuf>,
    /// Write every byte even if a block map is beside the image.
    #[arg(long)]
    pub no_bmap: bool,
    /// Expected SHA-256 of the uncompressed image (default: from SHA256SUMS beside the image).
    #[arg(long, value_name = "HEX")]
    pub sha256: Option<String>,
    /// Do not ask before erasing the device.
    #[arg(long, short)]
    pub yes: bool,
    /// Accept a device larger than --max-size.
    #[arg(long)]
    pub force: bool,
    /// Largest device accepted without --force (SD cards are small; a big disk is probably not
    /// the card).
    #[arg(long, value_name = "SIZE", default_value = "128G")]
    pub max_size: String,
    /// Print the result as JSON (and no progress bar).
    #[arg(long)]
    pub json: bool,
}

/// Turns an image error into an anyhow error, marking bad input for exit status 2.
fn lift(e: image::Error) -> anyhow::Error {
    if e.is_usage() {
        crate::error::UsageError(e.to_string()).into()
    } else {
        anyhow::Error::new(e)
    }
}

/// Runs `zizhu image`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        #[cfg(feature = "tools")]
        Command::Provision(a) => provision_cmd(a),
        #[cfg(feature = "tools")]
        Command::Inspect(a) => inspect(a),
        #[cfg(feature = "tools")]
        Command::Bmap(a) => bmap(a),
        Command::FirstBoot(a) => first_boot(a),
    }
}

#[cfg(feature = "tools")]
fn read_secret(path: &Path, what: &str) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s.trim().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => crate::error::usage(format!(
            "{what} file {} does not exist; save the value from the platform in it",
            path.display()
        )),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

#[cfg(feature = "tools")]
fn provision_cmd(a: ProvisionArgs) -> anyhow::Result<ExitCode> {
    let token = read_secret(&a.enroll_token_file, "enrollment token")?;
    let wifi = match &a.wifi {
        Some(ssid) => {
            let Some(f) = &a.wifi_psk_file else {
                return crate::error::usage(
                    "--wifi needs --wifi-psk-file FILE holding the passphrase",
                );
            };
            Some(provision::WifiSection {
                ssid: ssid.clone(),
                psk: read_secret(f, "Wi-Fi passphrase")?,
                country: a.wifi_country.clone(),
            })
        }
        None => None,
    };
    let p = provision::Provision {
        version: provision::FORMAT_VERSION,
        kiosk: provision::KioskSection {
            id: a.kiosk_id.clone(),
            site: a.site.clone(),
        },
        platform: provision::PlatformSection {
            url: a.platform.clone(),
            enroll_token: token,
        },
        wifi,
    };
    provision::write_to_image(&a.image, &p, a.force).map_err(lift)?;
    if a.json {
        let out = serde_json::json!({
            "image": a.image,
            "file": PROVISION_FILE,
            "provision": p.masked(),
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "Provisioned {} as kiosk {} ({}); {} written to its config partition.",
            a.image.display(),
            p.kiosk.id,
            p.kiosk.site,
            PROVISION_FILE
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "tools")]
fn inspect(a: InspectArgs) -> anyhow::Result<ExitCode> {
    let t = table::read_path(&a.image).map_err(lift)?;
    let mut files = Vec::new();
    let mut build: Option<toml::Table> = None;
    let mut prov: Option<serde_json::Value> = None;
    let mut prov_error: Option<String> = None;
    let mut fat_error: Option<String> = None;
    match ConfigPartition::open(&a.image, false) {
        Ok(mut cp) => {
            files = cp.list().map_err(lift)?;
            if let Some(b) = cp.read(image::BUILD_INFO_FILE).map_err(lift)? {
                build = toml::from_str(&String::from_utf8_lossy(&b)).ok();
            }
            if let Some(raw) = cp.read(PROVISION_FILE).map_err(lift)? {
                match provision::Provision::parse(&String::from_utf8_lossy(&raw)) {
                    Ok(p) => prov = Some(serde_json::to_value(p.masked())?),
                    Err(e) => prov_error = Some(e.to_string()),
                }
            }
        }
        Err(e) => fat_error = Some(e.to_string()),
    }
    if a.json {
        let out = serde_json::json!({
            "image": a.image,
            "table": t,
            "config_partition_files": files,
            "build": build,
            "provision": prov,
            "provision_error": prov_error,
            "config_partition_error": fat_error,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    let mut o = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        o,
        "{}: {} partition table, disk id {}",
        a.image.display(),
        match t.kind {
            table::TableKind::Mbr => "MBR",
            table::TableKind::Gpt => "GPT",
        },
        t.disk_id
    );
    let _ = writeln!(o, "  #  start       size        type");
    for p in &t.partitions {
        let _ = writeln!(
            o,
            "  {:<2} {:<11} {:<11} {}{}",
            p.number,
            p.start,
            human_bytes(p.size),
            p.type_name,
            if p.name.is_empty() {
                String::new()
            } else {
                format!(" \"{}\"", p.name)
            }
        );
    }
    match (&fat_error, &build) {
        (Some(e), _) => {
            let _ = writeln!(o, "config partition: {e}");
        }
        (None, Some(b)) => {
            let _ = writeln!(o, "build:");
            for (k, v) in b {
                let _ = writeln!(o, "  {k} = {v}");
            }
        }
        (None, None) => {
            let _ = writeln!(
                o,
                "build: no {} on the config partition",
                image::BUILD_INFO_FILE
            );
        }
    }
    match (&prov, &prov_error) {
        (Some(p), _) => {
            let _ = writeln!(o, "provisioning ({PROVISION_FILE}, token masked):");
            let text = toml::to_string(p).unwrap_or_default();
            for l in text.lines() {
                let _ = writeln!(o, "  {l}");
            }
        }
        (None, Some(e)) => {
            let _ = writeln!(o, "provisioning file present but INVALID: {e}");
        }
        (None, None) if fat_error.is_none() => {
            let _ = writeln!(o, "provisioning: none (not provisioned)");
        }
        _ => {}
    }
    print!("{o}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "tools")]
fn bmap(a: BmapArgs) -> anyhow::Result<ExitCode> {
    if a.block_size == 0 || !a.block_size.is_multiple_of(512) {
        return crate::error::usage("--block-size must be a positive multiple of 512");
    }
    let map = Bmap::create(&a.image, a.block_size).map_err(lift)?;
    let out = a.output.clone().unwrap_or_else(|| {
        let mut s = a.image.clone().into_os_string();
        s.push(".bmap");
        PathBuf::from(s)
    });
    std::fs::write(&out, map.to_xml()).with_context(|| format!("writing {}", out.display()))?;
    if a.json {
        let j = serde_json::json!({
            "image": a.image, "bmap": out, "image_size": map.image_size,
            "block_size": map.block_size, "mapped_bytes": map.mapped_bytes(),
            "ranges": map.ranges.len(),
        });
        println!("{}", serde_json::to_string_pretty(&j)?);
    } else {
        println!(
            "{}: {} of {} mapped in {} ranges",
            out.display(),
            human_bytes(map.mapped_bytes()),
            human_bytes(map.image_size),
            map.ranges.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn first_boot(a: FirstBootArgs) -> anyhow::Result<ExitCode> {
    let paths = provision::FirstBootPaths {
        file: a.file,
        config: a.config,
        identity: a.identity,
        data_dir: a.data_dir,
        error_file: a.error_file,
        wifi_conf: a.wifi_conf,
        owner: Some(a.owner),
    };
    let report = provision::first_boot(&paths).map_err(lift)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else if let Some(id) = &report.kiosk_id {
        println!("zizhu-provision: provisioned kiosk {id}; provisioning file consumed and deleted");
    } else {
        println!("zizhu-provision: no provisioning file; nothing to do");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "tools")]
fn confirm(plan: &flash::Plan) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return crate::error::usage(
            "standard input is not a terminal, so flash cannot ask; pass --yes to confirm erasing the device",
        );
    }
    eprint!(
        "Write {} to {} ({})? Everything on it will be erased. Type yes: ",
        plan.opts.image.display(),
        plan.target.path.display(),
        human_bytes(plan.target.capacity)
    );
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim().eq_ignore_ascii_case("yes"))
}

#[cfg(feature = "tools")]
/// Runs `zizhu flash`.
pub fn flash(a: FlashArgs) -> anyhow::Result<ExitCode> {
    let Some(max_size) = image::parse_size(&a.max_size) else {
        return crate::error::usage(format!(
            "--max-size {:?} is not a size; use e.g. 64G or 128G",
            a.max_size
        ));
    };
    let opts = flash::Options {
        image: a.image.clone(),
        device: a.device.clone(),
        bmap: match (&a.bmap, a.no_bmap) {
            (Some(p), _) => flash::BmapChoice::File(p.clone()),
            (None, true) => flash::BmapChoice::Off,
            (None, false) => flash::BmapChoice::Auto,
        },
        sha256: a.sha256.clone(),
        max_size,
        force: a.force,
    };
    let plan = flash::plan(opts, &image::target::System::current()).map_err(lift)?;
    if !a.yes && !confirm(&plan)? {
        eprintln!("zizhu: not flashed (answer was not yes)");
        return Ok(ExitCode::FAILURE);
    }
    let show = !a.json && std::io::stderr().is_terminal();
    let r = flash::execute(&plan, show).map_err(lift)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let how = match &r.integrity {
            flash::Integrity::Bmap => "block-map checksums",
            flash::Integrity::Image(_) => "SHA256SUMS (image)",
            flash::Integrity::Compressed(_) => "SHA256SUMS (compressed file)",
            flash::Integrity::None => "read-back only; no bmap or SHA256SUMS to check the image",
        };
        let mib_s = r.bytes_written as f64 / (1 << 20) as f64 / r.write_seconds.max(1e-6);
        println!(
            "Flashed {} to {}: wrote {} of {} ({} skipped by the block map) in {:.1} s ({:.0} MiB/s); read back and verified in {:.1} s; image checked by {how}.",
            r.image.display(),
            r.device.display(),
            human_bytes(r.bytes_written),
            human_bytes(r.image_size),
            human_bytes(r.bytes_skipped),
            r.write_seconds,
            mib_s,
            r.verify_seconds
        );
    }
    Ok(ExitCode::SUCCESS)
}
