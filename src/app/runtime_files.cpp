#include "app/runtime_files.hpp"

#include "base/log.hpp"
#include "config/config_loader.hpp"
#include "config/settings_table.hpp"

namespace breakwater::app {
namespace {

std::shared_ptr<const auth::UserList> load_users(const config::Config& config) {
  if (config.auth_file.empty()) return std::make_shared<auth::UserList>();
  auto text = config::read_file_from_disk(config.auth_file);
  if (!text) {
    BW_LOG_WARN("cannot read auth_file {}: {}", config.auth_file, text.error());
    return std::make_shared<auth::UserList>();
  }
  auto users = std::make_shared<auth::UserList>(auth::parse_userlist(config.auth_file, *text));
  for (const auto& problem : users->problems) BW_LOG_WARN("{}", problem);
  return users;
}

Result<std::shared_ptr<const auth::HbaRules>> load_hba(const config::Config& config) {
  if (config.auth_type != config::AuthType::Hba) return std::shared_ptr<const auth::HbaRules>();
  auto text = config::read_file_from_disk(config.auth_hba_file);
  if (!text) return unexpected("cannot read auth_hba_file " + config.auth_hba_file + ": " + text.error());
  auto rules = auth::parse_hba(config.auth_hba_file, *text,
                               [](const std::string& path) { return config::read_file_from_disk(path); });
  if (!rules) return unexpected(rules.error());
  return std::shared_ptr<const auth::HbaRules>(std::make_shared<auth::HbaRules>(std::move(*rules)));
}

}  // namespace

Result<RuntimeFiles> load_runtime_files(const config::Config& config) {
  RuntimeFiles files;
  auto hba = load_hba(config);
  if (!hba) return unexpected(hba.error());
  files.hba = std::move(*hba);
  auto client_tls = session::make_client_tls(config);
  if (!client_tls) return unexpected(client_tls.error());
  files.client_tls = std::move(*client_tls);
  auto server_tls = pool::make_server_tls(config);
  if (!server_tls) return unexpected(server_tls.error());
  files.server_tls = std::move(*server_tls);
  files.users = load_users(config);
  return files;
}

std::vector<std::string> settings_needing_restart(const config::Config& before, const config::Config& after) {
  std::vector<std::string> changed;
  for (const auto& setting : config::settings_table()) {
    if (setting.reload != config::Reload::Restart) continue;
    if (config::format_setting(before, setting) != config::format_setting(after, setting)) {
      changed.emplace_back(setting.name);
    }
  }
  return changed;
}

}  // namespace breakwater::app
