// The migrations are embedded by `sqlx::migrate!`; without this a new migration file would not
// rebuild the crate (as sqlx's `migrate build-script` advises).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
