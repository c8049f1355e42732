//! The README's walkthrough, run with the real binaries: a host and a guest hold a meeting
//! through `samla-cli`, what each saw is read back from `--events-json`, and the host takes
//! the attendance afterwards.

use std::process::Command;

use anyhow::{ensure, Result};
use samla_e2e::{binary, TestServer};
use serde_json::Value;

/// Chat texts a participant saw: live, and replayed in the `joined` snapshot.
fn chats_seen(events: &[Value]) -> Vec<String> {
    let live = events
        .iter()
        .filter(|e| e["event"] == "server" && e["type"] == "chat")
        .filter_map(|e| e["message"]["text"].as_str());
    let replayed = events
        .iter()
        .filter(|e| e["event"] == "server" && e["type"] == "joined")
        .filter_map(|e| e["chat"].as_array())
        .flatten()
        .filter_map(|m| m["text"].as_str());
    live.chain(replayed).map(str::to_owned).collect()
}

fn read_events(path: &std::path::Path) -> Result<Vec<Value>> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let arr = v.as_array().cloned().unwrap_or_default();
    // Each entry is {t_ms, event…} or {t_ms, event: {...}}; accept both shapes.
    Ok(arr
        .into_iter()
        .map(|e| match e.get("event") {
            Some(inner) if inner.is_object() => inner.clone(),
            _ => e,
        })
        .collect())
}

#[tokio::test]
async fn two_cli_participants_hold_a_meeting_with_a_waiting_room() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let out = Command::new(binary("samla-cli"))
        .args([
            "meeting",
            "create",
            "--server",
            server.base.as_str(),
            "--token",
            &token,
        ])
        .args(["--topic", "Forelesning", "--waiting-room"])
        .output()?;
    ensure!(
        out.status.success(),
        "create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout)?;
    let link = stdout.lines().last().unwrap_or_default().trim().to_owned();
    ensure!(
        link.contains("/j/"),
        "last line is the join link: {stdout:?}"
    );

    let dir = tempfile::tempdir()?;
    let host_events = dir.path().join("host.json");
    let guest_events = dir.path().join("guest.json");
    let host = Command::new(binary("samla-cli"))
        .args([
            "join",
            &link,
            "--name",
            "Kari",
            "--token",
            &token,
            "--admit-all",
        ])
        .args(["--chat", "Velkommen!", "--for", "6s", "--events-json"])
        .arg(&host_events)
        .spawn()?;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let guest = Command::new(binary("samla-cli"))
        .args([
            "join",
            &link,
            "--name",
            "Ola",
            "--chat",
            "Hei!",
            "--for",
            "3s",
            "--events-json",
        ])
        .arg(&guest_events)
        .output()?;
    ensure!(
        guest.status.success(),
        "guest: {}",
        String::from_utf8_lossy(&guest.stderr)
    );
    let host = host.wait_with_output()?;
    ensure!(
        host.status.success(),
        "host: {}",
        String::from_utf8_lossy(&host.stderr)
    );

    let guest_seen = read_events(&guest_events)?;
    let host_seen = read_events(&host_events)?;
    ensure!(
        guest_seen.iter().any(|e| e["type"] == "waiting"),
        "the guest waited first"
    );
    ensure!(
        guest_seen.iter().any(|e| e["type"] == "joined"),
        "and was admitted"
    );
    ensure!(chats_seen(&guest_seen).contains(&"Hei!".to_owned()));
    ensure!(
        chats_seen(&host_seen).contains(&"Hei!".to_owned()),
        "the host read the guest's chat"
    );
    ensure!(
        chats_seen(&guest_seen).contains(&"Velkommen!".to_owned()),
        "history replayed on admission"
    );

    // Afterwards, the teacher takes the attendance: both were there, Kari as herself. The
    // log is written as it happens, so the last leave may land a moment after the exit.
    let id = link.rsplit('/').next().unwrap_or_default();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let csv = loop {
        let out = Command::new(binary("samla-cli"))
            .args([
                "meeting",
                "attendance",
                id,
                "--server",
                server.base.as_str(),
                "--token",
                &token,
            ])
            .output()?;
        ensure!(
            out.status.success(),
            "attendance: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // As the server wrote it, for a spreadsheet: a byte-order mark first.
        let csv = String::from_utf8(out.stdout)?;
        ensure!(csv.starts_with('\u{feff}'), "no byte-order mark: {csv:?}");
        let csv = csv.trim_start_matches('\u{feff}').to_owned();
        let everyone_left = csv.lines().skip(1).all(|l| l.split(',').nth(3) != Some(""));
        if (csv.lines().count() == 3 && everyone_left) || std::time::Instant::now() > deadline {
            break csv;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    ensure!(
        lines.len() == 3
            && lines[0].join(",") == "name,email,first_joined,last_left,minutes,times_joined",
        "a header and two people: {csv}"
    );
    ensure!(
        lines[1][..2] == ["Kari", "kari@uio.no"] && lines[2][..2] == ["Ola", ""],
        "Kari signed in, Ola a guest, in the order they came: {csv}"
    );
    ensure!(
        lines[1..].iter().all(|l| !l[3].is_empty() && l[5] == "1"),
        "both left, after one visit each: {csv}"
    );
    Ok(())
}

#[test]
fn joining_with_a_bad_link_fails_clearly() {
    let out = Command::new(binary("samla-cli"))
        .args(["join", "http://127.0.0.1:1/x/abc", "--name", "Ola"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        !String::from_utf8_lossy(&out.stderr).trim().is_empty(),
        "says why"
    );
}

#[tokio::test]
async fn meetings_are_listed_and_deleted_from_the_command_line() -> Result<()> {
    let server = TestServer::start().await?;
    let token = server.token("kari@uio.no")?;
    let cli = |args: &[&str]| {
        Command::new(binary("samla-cli"))
            .args(args)
            .args(["--server", server.base.as_str(), "--token", &token])
            .output()
    };
    let created = cli(&[
        "meeting",
        "create",
        "--topic",
        "Seminar i INF2220",
        "--mute-on-entry",
        "--hosts-only-share",
    ])?;
    ensure!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let link = String::from_utf8(created.stdout)?
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let id = link.rsplit('/').next().unwrap_or_default().to_owned();
    // It starts with the rules asked for.
    let api = samla_engine::api::ApiClient::new(&server.base, &token)?;
    let stored = api.get_meeting(&id.parse()?).await?;
    ensure!(
        stored.mute_on_entry && stored.share_policy == samla_protocol::SharePolicy::HostsOnly,
        "{stored:?}"
    );

    let listed = String::from_utf8(cli(&["meeting", "list"])?.stdout)?;
    ensure!(
        listed.contains(&id) && listed.contains("Seminar i INF2220") && listed.contains(&link),
        "the list shows id, topic and link: {listed:?}"
    );
    let deleted = cli(&["meeting", "delete", &id])?;
    ensure!(
        deleted.status.success(),
        "{}",
        String::from_utf8_lossy(&deleted.stderr)
    );
    let listed = String::from_utf8(cli(&["meeting", "list"])?.stdout)?;
    ensure!(
        !listed.contains(&id),
        "deleted meetings are gone from the list: {listed:?}"
    );
    let again = cli(&["meeting", "delete", &id])?;
    ensure!(
        !again.status.success(),
        "deleting twice says it is not there"
    );
    Ok(())
}
