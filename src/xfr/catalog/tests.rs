//! The consumer's rules (RFC 9432 §5) on catalog versions built from
//! zone text, one rule per test (compiled only under `#[cfg(test)]`,
//! declared in `catalog.rs`).

use std::collections::HashSet;
use std::path::PathBuf;

use super::*;
use crate::wire::name::parse_name_text;
use crate::zone::load_zone_text;

fn name(s: &str) -> Name {
    parse_name_text(s, None).unwrap()
}

/// A catalog version from zone-file text below the SOA and NS.
fn version(apex: &str, serial: u32, body: &str) -> Snapshot {
    let text = format!(
        "$ORIGIN {apex}\n$TTL 0\n@ SOA invalid. invalid. {serial} 3600 600 86400 0\n@ NS invalid.\n{body}"
    );
    load_zone_text(text.as_bytes(), "catalog", &name(apex))
        .unwrap()
        .snapshot
}

fn template(name: &str, port: u16) -> MemberTemplate {
    MemberTemplate {
        name: name.into(),
        primaries: vec![format!("127.0.0.1:{port}").parse().unwrap()].into(),
        key: None,
        source: None,
        directory: PathBuf::from(format!("/var/lib/zonecast/{name}")),
        zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
    }
}

fn catalog(apex: &str, templates: Vec<MemberTemplate>) -> CatalogConfig {
    CatalogConfig {
        zone: SecondaryZone {
            apex: name(apex),
            file: PathBuf::from(format!("/var/lib/zonecast/{apex}zone")).into(),
            primaries: vec!["127.0.0.1:53".parse().unwrap()].into(),
            key: None,
            source: None,
            catalog: true,
            zonemd: crate::zone::zonemd::ZonemdPolicy::Verify,
            allow_transfer: None,
        },
        templates,
    }
}

const V2: &str = "version TXT \"2\"\n";

/// Hands `c` version `serial` of `catalog`, a good one (schema version
/// 2) listing `body`; what changed.
fn lists(c: &mut Consumer, catalog: &str, serial: u32, body: &str) -> Vec<MemberChange> {
    c.update(
        &name(catalog),
        &version(catalog, serial, &format!("{V2}{body}")),
    )
}

fn added(changes: &[MemberChange]) -> Vec<String> {
    let mut v: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            MemberChange::Add(z) => Some(z.apex.to_string()),
            _ => None,
        })
        .collect();
    v.sort();
    v
}

fn consumer(catalogs: Vec<CatalogConfig>, configured: &[&str]) -> Consumer {
    let mut c = Consumer::new();
    let names: HashSet<Name> = configured.iter().map(|n| name(n)).collect();
    assert!(c.configure(catalogs, names).is_empty());
    c
}

#[test]
fn members_and_their_properties_are_read() {
    let v = version(
        "cat.invalid.",
        1,
        &format!(
            "{V2}m1.zones PTR example.com.\ngroup.m1.zones TXT \"gold\" \"x\"\n\
             coo.m1.zones PTR other.invalid.\nm2.zones PTR Example.NET.\n\
             ext.zones TXT \"ignored\"\nserial.m2.zones TXT \"custom\"\n"
        ),
    );
    let m = members_of(&v).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].zone, name("example.com."));
    assert_eq!(&*m[0].id, b"m1");
    assert_eq!(
        m[0].groups,
        vec![b"gold".to_vec().into(), b"x".to_vec().into()]
    );
    assert_eq!(m[0].coo, Some(name("other.invalid.")));
    // Lowercase, so it matches the zone however the catalog spells it.
    assert_eq!(m[1].zone, name("example.net."));
    assert!(m[1].groups.is_empty() && m[1].coo.is_none());
}

#[test]
fn broken_versions_are_named() {
    let cases = [
        ("m1.zones PTR a.example.\n", "no version"),
        ("version TXT \"1\"\nm1.zones PTR a.example.\n", "\"1\""),
        ("version TXT \"2\"\nversion TXT \"3\"\n", "must be one TXT"),
        (
            "version TXT \"2\"\nm1.zones PTR a.example.\nm1.zones PTR b.example.\n",
            "2 PTR records",
        ),
        (
            "version TXT \"2\"\nm1.zones PTR a.example.\ncoo.m1.zones PTR x.\ncoo.m1.zones PTR y.\n",
            "coo property",
        ),
    ];
    for (body, wanted) in cases {
        let e = members_of(&version("cat.invalid.", 1, body)).unwrap_err();
        assert!(e.to_string().contains(wanted), "{body}: {e}");
    }
}

#[test]
fn members_come_and_go_with_their_catalog() {
    let cat = name("cat.invalid.");
    let mut c = consumer(
        vec![catalog("cat.invalid.", vec![template("t", 5300)])],
        &[],
    );
    let ch = lists(
        &mut c,
        "cat.invalid.",
        1,
        "a.zones PTR a.example.\nb.zones PTR b.example.\n",
    );
    assert_eq!(added(&ch), ["a.example.", "b.example."]);
    let MemberChange::Add(z) = &ch[0] else {
        panic!("{ch:?}")
    };
    assert_eq!(z.primaries, vec!["127.0.0.1:5300".parse().unwrap()].into());
    assert!(z.file.starts_with("/var/lib/zonecast/t"));
    assert!(!z.catalog);
    assert!(c.is_member(&name("a.example.")));
    // The same version again changes nothing.
    let same = version(
        "cat.invalid.",
        2,
        &format!("{V2}a.zones PTR a.example.\nb.zones PTR b.example.\n"),
    );
    assert!(c.update(&cat, &same).is_empty());
    // §5.3: dropped from the catalog, the zone goes.
    let ch = lists(&mut c, "cat.invalid.", 3, "a.zones PTR a.example.\n");
    assert_eq!(ch, vec![MemberChange::Remove(name("b.example."))]);
    assert!(!c.is_member(&name("b.example.")));
}

#[test]
fn a_broken_version_changes_nothing_until_fixed() {
    let cat = name("cat.invalid.");
    let mut c = consumer(
        vec![catalog("cat.invalid.", vec![template("t", 5300)])],
        &[],
    );
    lists(&mut c, "cat.invalid.", 1, "a.zones PTR a.example.\n");
    // No version record: the member list it shows (nothing) is not applied.
    assert!(c.update(&cat, &version("cat.invalid.", 2, "")).is_empty());
    // Two PTRs at one member: nothing applied, not even the good member.
    let broken = version(
        "cat.invalid.",
        3,
        &format!("{V2}b.zones PTR b.example.\nc.zones PTR c.example.\nc.zones PTR d.example.\n"),
    );
    assert!(c.update(&cat, &broken).is_empty());
    assert!(c.is_member(&name("a.example.")));
    assert_eq!(c.member_count(), 1);
    // Fixed: applied as a whole.
    let fixed = version("cat.invalid.", 4, &format!("{V2}b.zones PTR b.example.\n"));
    let ch = c.update(&cat, &fixed);
    assert_eq!(added(&ch), ["b.example."]);
    assert!(ch.contains(&MemberChange::Remove(name("a.example."))));
}

#[test]
fn a_new_member_id_resets_the_zone() {
    let cat = name("cat.invalid.");
    let mut c = consumer(
        vec![catalog("cat.invalid.", vec![template("t", 5300)])],
        &[],
    );
    lists(&mut c, "cat.invalid.", 1, "old.zones PTR a.example.\n");
    let ch = lists(&mut c, "cat.invalid.", 2, "new.zones PTR a.example.\n");
    assert!(
        matches!(&ch[..], [MemberChange::Reset(z)] if z.apex == name("a.example.")),
        "{ch:?}"
    );
    // Listed under both labels: the old one holds, nothing is reset.
    let both = version(
        "cat.invalid.",
        3,
        &format!("{V2}new.zones PTR a.example.\nzzz.zones PTR a.example.\n"),
    );
    assert!(c.update(&cat, &both).is_empty());
}

#[test]
fn clashes_are_ignored_and_the_zone_there_first_keeps_the_name() {
    let (a, b) = (name("a.invalid."), name("b.invalid."));
    let mut c = consumer(
        vec![
            catalog("a.invalid.", vec![template("ta", 5301)]),
            catalog("b.invalid.", vec![template("tb", 5302)]),
        ],
        &["static.example."],
    );
    // b lists the zone first; a (first by name) lists it later.
    let ch = lists(&mut c, "b.invalid.", 1, "m.zones PTR shared.example.\n");
    assert_eq!(added(&ch), ["shared.example."]);
    let ch = lists(
        &mut c,
        "a.invalid.",
        1,
        "m.zones PTR shared.example.\ns.zones PTR static.example.\nx.zones PTR b.invalid.\n",
    );
    assert!(ch.is_empty(), "{ch:?}");
    assert_eq!(c.owner_of(&name("shared.example.")), Some(&b));
    assert!(!c.is_member(&name("static.example.")));
    assert!(!c.is_member(&b), "a catalog is never a member");
    // Once b drops it, a's listing takes the name.
    // Its state goes with b's ownership: a reset, not a move.
    let ch = c.update(&b, &version("b.invalid.", 2, V2));
    assert!(
        matches!(&ch[..], [MemberChange::Reset(z)] if z.primaries[0].port() == 5301),
        "{ch:?}"
    );
    assert_eq!(c.owner_of(&name("shared.example.")), Some(&a));
}

#[test]
fn coo_moves_a_member_once_the_new_catalog_lists_it() {
    let (old, new) = (name("old.invalid."), name("new.invalid."));
    let mut c = consumer(
        vec![
            catalog("old.invalid.", vec![template("to", 5301)]),
            catalog("new.invalid.", vec![template("tn", 5302)]),
        ],
        &[],
    );
    lists(
        &mut c,
        "old.invalid.",
        1,
        "m.zones PTR z.example.\nk.zones PTR k.example.\n",
    );
    // The old catalog names the new owner; the new one does not list the
    // zone yet: nothing moves.
    let ch = lists(
        &mut c,
        "old.invalid.",
        2,
        "m.zones PTR z.example.\ncoo.m.zones PTR new.invalid.\nk.zones PTR k.example.\ncoo.k.zones PTR new.invalid.\n",
    );
    assert!(ch.is_empty(), "{ch:?}");
    assert_eq!(c.owner_of(&name("z.example.")), Some(&old));
    // The new catalog lists both: z with the same label keeps its copy
    // and takes the new template; k under a new label is reset.
    let ch = lists(
        &mut c,
        "new.invalid.",
        1,
        "m.zones PTR z.example.\nother.zones PTR k.example.\n",
    );
    assert_eq!(c.owner_of(&name("z.example.")), Some(&new));
    assert_eq!(c.owner_of(&name("k.example.")), Some(&new));
    let moved = ch
        .iter()
        .find(|c| matches!(c, MemberChange::Update(z) if z.apex == name("z.example.")));
    let Some(MemberChange::Update(z)) = moved else {
        panic!("{ch:?}")
    };
    assert_eq!(z.primaries, vec!["127.0.0.1:5302".parse().unwrap()].into());
    assert!(
        ch.iter()
            .any(|c| matches!(c, MemberChange::Reset(z) if z.apex == name("k.example."))),
        "{ch:?}"
    );
    // The old catalog then drops them: they stay, with their new owner.
    assert!(c.update(&old, &version("old.invalid.", 3, V2)).is_empty());
    assert_eq!(c.member_count(), 2);
}

#[test]
fn the_group_property_picks_the_template() {
    let mut c = consumer(
        vec![catalog(
            "cat.invalid.",
            vec![template("plain", 5301), template("gold", 5302)],
        )],
        &[],
    );
    let ch = lists(
        &mut c,
        "cat.invalid.",
        1,
        "a.zones PTR a.example.\ngroup.a.zones TXT \"gold\"\nb.zones PTR b.example.\ngroup.b.zones TXT \"unknown\"\n",
    );
    let port = |apex: &str| {
        ch.iter()
            .find_map(|c| match c {
                MemberChange::Add(z) if z.apex == name(apex) => Some(z.primaries[0].port()),
                _ => None,
            })
            .unwrap()
    };
    assert_eq!(port("a.example."), 5302);
    assert_eq!(
        port("b.example."),
        5301,
        "an unknown group takes the default"
    );
    // A new group moves the member to another template.
    let ch = lists(
        &mut c,
        "cat.invalid.",
        2,
        "a.zones PTR a.example.\nb.zones PTR b.example.\ngroup.b.zones TXT \"gold\"\n",
    );
    assert_eq!(ch.len(), 2, "{ch:?}");
    assert!(ch.iter().all(|c| matches!(c, MemberChange::Update(_))));
}

#[test]
fn the_configuration_wins_over_catalogs_and_takes_members_with_a_catalog() {
    let cat = name("cat.invalid.");
    let cfg = || vec![catalog("cat.invalid.", vec![template("t", 5300)])];
    let mut c = consumer(cfg(), &[]);
    lists(
        &mut c,
        "cat.invalid.",
        1,
        "a.zones PTR a.example.\nb.zones PTR b.example.\n",
    );
    // A reload names a.example. as a zone of its own: the member goes.
    let names: HashSet<Name> = [name("a.example.")].into();
    let ch = c.configure(cfg(), names);
    assert_eq!(ch, vec![MemberChange::Remove(name("a.example."))]);
    // The zone leaves the configuration: the catalog's listing is back.
    let ch = c.configure(cfg(), HashSet::new());
    assert_eq!(added(&ch), ["a.example."]);
    // The catalog leaves the configuration: its members go with it.
    let mut ch = c.configure(Vec::new(), HashSet::new());
    ch.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        ch,
        vec![
            MemberChange::Remove(name("a.example.")),
            MemberChange::Remove(name("b.example."))
        ]
    );
    assert!(!c.is_catalog(&cat));
}

#[test]
fn member_file_names_cannot_leave_the_directory() {
    assert_eq!(file_name(&name("Example.COM.")), "Example.COM.zone");
    assert_eq!(file_name(&name("a\\/b.\\.\\..x.")), "a%2Fb.%2E%2E.x.zone");
    assert_eq!(file_name(&Name::root()), "root.zone");
}

/// What a restart brings back from the members files.
fn restarted(before: &mut Consumer, catalogs: Vec<CatalogConfig>) -> Consumer {
    let files = before.membership();
    let mut c = Consumer::new();
    for (path, text) in files {
        let cat = catalogs
            .iter()
            .find(|k| members_path(&k.zone.file) == path)
            .expect("a members file per catalog");
        c.remember(&cat.zone.apex, std::str::from_utf8(&text).unwrap());
    }
    assert!(c.configure(catalogs, HashSet::new()).is_empty());
    c
}

#[test]
fn after_a_restart_the_owner_keeps_its_zone_and_a_changed_label_still_resets() {
    let b = name("b.invalid.");
    let cfg = || {
        vec![
            catalog("a.invalid.", vec![template("ta", 5301)]),
            catalog("b.invalid.", vec![template("tb", 5302)]),
        ]
    };
    let mut c = consumer(cfg(), &[]);
    lists(
        &mut c,
        "b.invalid.",
        1,
        "m.zones PTR shared.example.\nk.zones PTR k.example.\n",
    );
    lists(&mut c, "a.invalid.", 1, "m.zones PTR shared.example.\n");
    assert_eq!(c.owner_of(&name("shared.example.")), Some(&b));
    let mut c = restarted(&mut c, cfg());
    // a's copy is read first: the zone waits for b, which had it.
    let ch = lists(&mut c, "a.invalid.", 1, "m.zones PTR shared.example.\n");
    assert!(ch.is_empty(), "{ch:?}");
    // b's copy, read next, shows k under a new label: reset.
    let ch = lists(
        &mut c,
        "b.invalid.",
        2,
        "m.zones PTR shared.example.\nnew.zones PTR k.example.\n",
    );
    assert_eq!(c.owner_of(&name("shared.example.")), Some(&b));
    assert!(ch.contains(&MemberChange::Add(c_zone(&c, "shared.example.").unwrap())));
    assert!(
        ch.iter()
            .any(|x| matches!(x, MemberChange::Reset(z) if z.apex == name("k.example."))),
        "{ch:?}"
    );
    // The members file follows: k's new label is what the next run reads.
    let files = c.membership();
    let text = String::from_utf8(files[0].1.clone()).unwrap();
    assert!(text.contains("k.example. 6e6577\n"), "{text}");
    assert!(files[0].0.ends_with("b.invalid.zone.members"));
}

fn c_zone(c: &Consumer, apex: &str) -> Option<SecondaryZone> {
    c.owned.get(&name(apex)).map(|o| o.zone.clone())
}
