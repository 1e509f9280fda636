use crate::{Result, Store, WriteTx};

impl Store {
    /// One recorded instance setting, with the time it was written.
    pub async fn instance_setting(&self, name: &str) -> Result<Option<(String, i64)>> {
        Ok(sqlx::query_as("SELECT value, changed FROM instance_settings WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The org code bound to `orgno` in the resource registry's service owners (the oldest
    /// binding when an organisation holds several codes).
    pub async fn service_owner_code(&self, orgno: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT orgcode FROM service_owners WHERE orgno = $1 ORDER BY created, orgcode LIMIT 1")
            .bind(orgno)
            .fetch_optional(&self.pool)
            .await?)
    }
}

impl WriteTx {
    pub async fn set_instance_setting(&mut self, name: &str, value: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO instance_settings (name, value, changed) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, changed = excluded.changed",
        )
        .bind(name)
        .bind(value)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
