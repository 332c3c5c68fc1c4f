//! Contract checks for `UserDirectory`.

use switchboard::domain::{Role, UserProfile};
use switchboard::ports::Stores;

use super::support::*;

fn profile(id: &str, name: &str) -> UserProfile {
    UserProfile {
        name: Some(name.into()),
        email: Some(format!("{id}@example.com")),
        avatar: Some(format!("/avatars/{id}.png")),
        role: Role::new("doctor"),
        ..UserProfile::bare(uid(id))
    }
}

/// `upsert` creates or replaces name, email, avatar and role; `get` reads them back.
pub async fn upsert_then_get_reads_back(stores: &Stores) {
    assert_eq!(stores.users.get(&uid("u1")).await.unwrap(), None);
    let ann = profile("u1", "Ann");
    stores.users.upsert(&ann).await.unwrap();
    assert_eq!(stores.users.get(&uid("u1")).await.unwrap(), Some(ann));

    let renamed = UserProfile {
        name: Some("Ann B".into()),
        ..UserProfile::bare(uid("u1"))
    };
    stores.users.upsert(&renamed).await.unwrap();
    assert_eq!(
        stores.users.get(&uid("u1")).await.unwrap(),
        Some(renamed),
        "every profile field is replaced, cleared ones too"
    );
}

/// The known profiles among the ids, in any order; unknown ids are left out.
pub async fn get_many_leaves_out_unknown_ids(stores: &Stores) {
    stores.users.upsert(&profile("u1", "Ann")).await.unwrap();
    stores.users.upsert(&profile("u2", "Bob")).await.unwrap();
    stores.users.upsert(&profile("u3", "Cy")).await.unwrap();
    let mut found = stores
        .users
        .get_many(&[uid("u3"), uid("nope"), uid("u1")])
        .await
        .unwrap();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(found, [profile("u1", "Ann"), profile("u3", "Cy")]);
    assert!(stores.users.get_many(&[]).await.unwrap().is_empty());
}

/// `record_last_active` creates a bare entry if needed and keeps the profile; `upsert`
/// keeps `last_active`.
pub async fn last_active_and_profile_are_kept_apart(stores: &Stores) {
    stores
        .users
        .record_last_active(&uid("new"), t(5))
        .await
        .unwrap();
    assert_eq!(
        stores.users.get(&uid("new")).await.unwrap(),
        Some(UserProfile {
            last_active: Some(t(5)),
            ..UserProfile::bare(uid("new"))
        })
    );

    stores.users.upsert(&profile("u1", "Ann")).await.unwrap();
    stores
        .users
        .record_last_active(&uid("u1"), t(7))
        .await
        .unwrap();
    let expected = UserProfile {
        last_active: Some(t(7)),
        ..profile("u1", "Ann")
    };
    assert_eq!(stores.users.get(&uid("u1")).await.unwrap(), Some(expected));

    stores.users.upsert(&profile("u1", "Ann B")).await.unwrap();
    let expected = UserProfile {
        last_active: Some(t(7)),
        ..profile("u1", "Ann B")
    };
    assert_eq!(stores.users.get(&uid("u1")).await.unwrap(), Some(expected));
}
