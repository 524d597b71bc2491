//! The local certificate authority and server certificate that `serve` creates on first start,
//! so that HTTPS works out of the box (Microsoft's client libraries refuse plain HTTP).

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot write or read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
}

/// Paths of the generated material.
#[derive(Debug, Clone)]
pub struct LocalTls {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    /// Whether this call created a new CA (clients must trust the new `ca_cert`).
    pub created_ca: bool,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io { path: path.to_owned(), source }
}

fn write_private(path: &Path, contents: &str) -> Result<(), TlsError> {
    fs::write(path, contents).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    }
    Ok(())
}

fn ca_params(now_unix: i64) -> Result<CertificateParams, TlsError> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "Atrium");
    dn.push(DnType::CommonName, "Atrium local CA");
    p.distinguished_name = dn;
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    set_validity(&mut p, now_unix, 10 * 365);
    Ok(p)
}

fn set_validity(p: &mut CertificateParams, now_unix: i64, days: i64) {
    if let (Ok(start), Ok(end)) = (
        time::OffsetDateTime::from_unix_timestamp(now_unix - 86_400),
        time::OffsetDateTime::from_unix_timestamp(now_unix + days * 86_400),
    ) {
        p.not_before = start;
        p.not_after = end;
    }
}

/// Makes sure `dir` holds a CA and a server certificate for `names` (DNS names or IP
/// addresses). The CA is created once and kept; the server certificate is re-issued by the same
/// CA when the names change.
pub fn ensure_local_tls(dir: &Path, names: &[String], now_unix: i64) -> Result<LocalTls, TlsError> {
    fs::create_dir_all(dir).map_err(io(dir))?;
    let ca_cert_path = dir.join("ca.pem");
    let ca_key_path = dir.join("ca-key.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server-key.pem");
    let names_path = dir.join("server-names.txt");

    let mut created_ca = false;
    let ca_key = if ca_cert_path.exists() && ca_key_path.exists() {
        KeyPair::from_pem(&fs::read_to_string(&ca_key_path).map_err(io(&ca_key_path))?)?
    } else {
        let key = KeyPair::generate()?;
        let cert = ca_params(now_unix)?.self_signed(&key)?;
        write_private(&ca_key_path, &key.serialize_pem())?;
        fs::write(&ca_cert_path, cert.pem()).map_err(io(&ca_cert_path))?;
        created_ca = true;
        key
    };
    let wanted = names.join("\n");
    let current = fs::read_to_string(&names_path).unwrap_or_default();
    if created_ca || current != wanted || !cert_path.exists() || !key_path.exists() {
        // Re-signing the CA's parameters with its own key yields an issuer with the same name
        // and key identifier as the stored CA certificate, which is all a chain needs.
        let issuer = ca_params(now_unix)?.self_signed(&ca_key)?;
        let key = KeyPair::generate()?;
        let mut p = CertificateParams::new(names.to_vec())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::OrganizationName, "Atrium");
        dn.push(DnType::CommonName, names.first().map(String::as_str).unwrap_or("localhost"));
        p.distinguished_name = dn;
        p.use_authority_key_identifier_extension = true;
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        set_validity(&mut p, now_unix, 2 * 365);
        let cert = p.signed_by(&key, &issuer, &ca_key)?;
        write_private(&key_path, &key.serialize_pem())?;
        fs::write(&cert_path, cert.pem()).map_err(io(&cert_path))?;
        fs::write(&names_path, wanted).map_err(io(&names_path))?;
    }
    Ok(LocalTls { ca_cert: ca_cert_path, server_cert: cert_path, server_key: key_path, created_ca })
}
