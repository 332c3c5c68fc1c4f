//! The client families whose Node servers' data can be imported, and the kind of database
//! each was born on. A family picks the default field names (`Mapping::defaults`) and which
//! source reads them (`MongoSource` or `PgSource`).

use std::fmt;

/// One of the Node servers switchboard replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Calmora,
    Marketplace,
    Kaajkaam,
    Linsta,
    Quickclinic,
}

/// The database a family's Node server kept its data in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyDatabase {
    Mongo,
    Postgres,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Self::Calmora,
        Self::Marketplace,
        Self::Kaajkaam,
        Self::Linsta,
        Self::Quickclinic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Calmora => "calmora",
            Self::Marketplace => "marketplace",
            Self::Kaajkaam => "kaajkaam",
            Self::Linsta => "linsta",
            Self::Quickclinic => "quickclinic",
        }
    }

    /// The family named `raw` (case and surrounding blanks ignored: it comes from a command
    /// line).
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        Self::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(raw))
    }

    /// Where the family's Node server kept its data: QuickClinic on PostgreSQL (Prisma), the
    /// others on MongoDB (Mongoose or the bare driver).
    pub fn database(self) -> LegacyDatabase {
        match self {
            Self::Quickclinic => LegacyDatabase::Postgres,
            Self::Calmora | Self::Marketplace | Self::Kaajkaam | Self::Linsta => {
                LegacyDatabase::Mongo
            }
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl LegacyDatabase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mongo => "mongodb",
            Self::Postgres => "postgres",
        }
    }
}

impl LegacyDatabase {
    /// The command that imports a Node server's data from a database of this kind, for the
    /// start-up error of a store that still holds such data unimported.
    pub fn import_command(self, uri_variable: &str) -> String {
        let families: Vec<&str> = Family::ALL
            .into_iter()
            .filter(|f| f.database() == self)
            .map(Family::as_str)
            .collect();
        format!(
            "switchboard import --family {} --from <this {uri_variable}>",
            match families.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("<{}>", many.join("|")),
            }
        )
    }
}

impl fmt::Display for LegacyDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_back() {
        for family in Family::ALL {
            assert_eq!(Family::parse(family.as_str()), Some(family));
            assert_eq!(family.to_string(), family.as_str());
        }
        assert_eq!(Family::parse(" QuickClinic "), Some(Family::Quickclinic));
        assert_eq!(Family::parse("native"), None);
        assert_eq!(Family::parse(""), None);
    }

    #[test]
    fn the_import_command_names_the_families_of_the_database() {
        assert_eq!(
            LegacyDatabase::Mongo.import_command("MONGO_URI"),
            "switchboard import --family <calmora|marketplace|kaajkaam|linsta> --from <this MONGO_URI>"
        );
        assert_eq!(
            LegacyDatabase::Postgres.import_command("DATABASE_URL"),
            "switchboard import --family quickclinic --from <this DATABASE_URL>"
        );
    }

    #[test]
    fn only_quickclinic_was_born_on_postgres() {
        let on_postgres: Vec<Family> = Family::ALL
            .into_iter()
            .filter(|f| f.database() == LegacyDatabase::Postgres)
            .collect();
        assert_eq!(on_postgres, [Family::Quickclinic]);
    }
}
