//! ACH debit authorization documents: uploaded by staff (judged by content), kept in
//! PostgreSQL with their SHA-256, opened by whoever may see the company's methods, and
//! cleared after a day when never attached to a method.

use crate::authority::{CompanyScope, Principal, Staff};
use crate::Result;
use sha2::{Digest, Sha256};
use shared::document::{check_upload, clean_file_name, UploadedDocument};
use shared::{AppError, CompanyId, DocumentId, UserId};
use sqlx::PgPool;

/// Keeps an uploaded ACH debit authorization for `company`, judged by its content. Staff
/// only: customers authorize in the portal instead. It waits to be attached to a method.
pub async fn store_document(
    pool: &PgPool,
    staff: &Staff,
    scope: &CompanyScope,
    file_name: &str,
    bytes: &[u8],
) -> Result<UploadedDocument> {
    let company = scope.id();
    let kind = check_upload(file_name, bytes)?;
    let file_name = clean_file_name(file_name);
    let id = sqlx::query_scalar!(
        r#"INSERT INTO documents (company_id, kind, file_name, content_type, size_bytes, sha256, content, uploaded_by)
           VALUES ($1, 'ach_authorization', $2, $3, $4, $5, $6, $7) RETURNING id AS "id: DocumentId""#,
        company as CompanyId,
        file_name,
        kind.content_type(),
        bytes.len() as i32,
        Sha256::digest(bytes).to_vec(),
        bytes,
        staff.id() as UserId
    )
    .fetch_one(pool)
    .await?;
    Ok(UploadedDocument {
        id,
        file_name,
        content_type: kind.content_type().to_string(),
        size_bytes: bytes.len() as i64,
    })
}

/// Deletes uploads never attached to a method, older than a day. Returns how many.
pub async fn clear_unattached_documents(pool: &PgPool) -> Result<u64> {
    let done = sqlx::query!(
        "DELETE FROM documents d WHERE d.created_at < now() - interval '1 day' \
         AND NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.authorization_document_id = d.id)"
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// A stored document's file, if the user may open it: staff any, a customer their own
/// company's. Name, content type and bytes.
pub async fn document_file(
    pool: &PgPool,
    who: &Principal,
    id: DocumentId,
) -> Result<(String, String, Vec<u8>)> {
    let row = sqlx::query!(
        r#"SELECT company_id AS "company: CompanyId", file_name, content_type, content
           FROM documents WHERE id = $1"#,
        id as DocumentId
    )
    .fetch_optional(pool)
    .await?
    .ok_or_else(|| AppError::NotFound("Document".into()))?;
    who.reach(row.company, "Document")?;
    Ok((row.file_name, row.content_type, row.content))
}
