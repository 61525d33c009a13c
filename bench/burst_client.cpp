// The `burst` scenario's clients: COUNT connections to 127.0.0.1:PORT opened at
// the same instant, each logging in (trust) and running SELECT 1, all from one
// epoll loop. The Python swarm it replaces spent about 3.5 s of its own CPU on
// 10,000 clients and every client's answer came at the end of that, whichever
// pooler served them: the scenario timed the client. Here a client costs a few
// system calls, so the time to the last answer is the pooler's and PostgreSQL's.
//
//   burst_client PORT COUNT [USER [DATABASE]]
//
// Prints one JSON object: served, failed, seconds_to_last (from the first connect
// to the last ReadyForQuery), seconds_p50 and seconds_p99 (the same, per client),
// first_failure. Connections stay open until every
// client is done or has failed, as a crowd of applications' would.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kDeadline = std::chrono::seconds(60);

enum class Phase { Connecting, LoggingIn, Querying, Done, Failed };

struct Client {
  int fd = -1;
  Phase phase = Phase::Connecting;
  std::string out;   // bytes still to send
  std::string in;    // bytes received and not yet parsed
};

std::string startup_packet(const std::string& user, const std::string& database) {
  std::string body;
  auto put_u32 = [&body](uint32_t v) {
    uint32_t n = htonl(v);
    body.append(reinterpret_cast<const char*>(&n), 4);
  };
  put_u32(196608);  // protocol 3.0
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"user", user}, {"database", database}}) {
    body += key;
    body.push_back('\0');
    body += value;
    body.push_back('\0');
  }
  body.push_back('\0');
  std::string packet(4, '\0');
  uint32_t length = htonl(static_cast<uint32_t>(body.size() + 4));
  std::memcpy(packet.data(), &length, 4);
  return packet + body;
}

std::string query_packet(const char* sql) {
  std::string packet = "Q";
  uint32_t length = htonl(static_cast<uint32_t>(std::strlen(sql) + 1 + 4));
  packet.append(reinterpret_cast<const char*>(&length), 4);
  packet.append(sql);
  packet.push_back('\0');
  return packet;
}

std::string json_escaped(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(static_cast<unsigned char>(c) < 0x20 ? ' ' : c);
  }
  return out;
}

class Burst {
 public:
  Burst(int port, int count, std::string user, std::string database)
      : port_(port), clients_(static_cast<size_t>(count)), login_(startup_packet(user, database)),
        query_(query_packet("SELECT 1")) {}

  int run() {
    epoll_ = epoll_create1(0);
    if (epoll_ < 0) return report_fatal("epoll_create1");
    start_ = Clock::now();
    for (size_t i = 0; i < clients_.size(); ++i) open(i);
    std::vector<epoll_event> events(1024);
    while (pending_ > 0 && Clock::now() - start_ < kDeadline) {
      int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
      if (n < 0 && errno != EINTR) return report_fatal("epoll_wait");
      for (int i = 0; i < n; ++i) step(events[static_cast<size_t>(i)].data.u64, events[static_cast<size_t>(i)].events);
    }
    for (Client& client : clients_) {
      if (client.phase != Phase::Done && client.phase != Phase::Failed) fail(client, "no answer within 60 s");
    }
    std::sort(answered_.begin(), answered_.end());
    auto quantile = [this](double q) {
      if (answered_.empty()) return 0.0;
      return answered_[std::min(answered_.size() - 1, static_cast<size_t>(q * static_cast<double>(answered_.size())))];
    };
    std::printf(
        "{\"served\": %zu, \"failed\": %zu, \"seconds_to_last\": %.6f, \"seconds_p50\": %.6f, \"seconds_p99\": %.6f, "
        "\"first_failure\": %s}\n",
        served_, failed_, answered_.empty() ? 0.0 : answered_.back(), quantile(0.5), quantile(0.99),
        first_failure_.empty() ? "null" : ("\"" + json_escaped(first_failure_) + "\"").c_str());
    for (Client& client : clients_) {
      if (client.fd >= 0) ::close(client.fd);
    }
    return 0;
  }

 private:
  void open(size_t index) {
    Client& client = clients_[index];
    ++pending_;
    client.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (client.fd < 0) return fail(client, std::string("socket: ") + std::strerror(errno));
    int one = 1;
    ::setsockopt(client.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port_));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(client.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) < 0 && errno != EINPROGRESS) {
      return fail(client, std::string("connect: ") + std::strerror(errno));
    }
    epoll_event event{};
    event.events = EPOLLIN | EPOLLOUT | EPOLLET;
    event.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, client.fd, &event) < 0) {
      return fail(client, std::string("epoll_ctl: ") + std::strerror(errno));
    }
    client.out = login_;
  }

  void step(uint64_t index, uint32_t events) {
    Client& client = clients_[index];
    if (client.phase == Phase::Done || client.phase == Phase::Failed) return;
    if (client.phase == Phase::Connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(client.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) return fail(client, std::string("connect: ") + std::strerror(error));
      if ((events & (EPOLLOUT | EPOLLIN)) == 0) return;
      client.phase = Phase::LoggingIn;
    }
    if (!flush(client)) return;
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) receive(client);
  }

  // Sends what is queued; false once the client failed.
  bool flush(Client& client) {
    while (!client.out.empty()) {
      ssize_t n = ::send(client.fd, client.out.data(), client.out.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return true;
        fail(client, std::string("send: ") + std::strerror(errno));
        return false;
      }
      client.out.erase(0, static_cast<size_t>(n));
    }
    return true;
  }

  void receive(Client& client) {
    char buffer[4096];
    bool closed = false;
    for (;;) {
      ssize_t n = ::recv(client.fd, buffer, sizeof buffer, 0);
      if (n == 0) {
        closed = true;
        break;
      }
      if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) break;
        return fail(client, std::string("recv: ") + std::strerror(errno));
      }
      client.in.append(buffer, static_cast<size_t>(n));
    }
    // What came before a close is read first: a refusal is an ErrorResponse, then the close.
    parse(client);
    if (closed) fail(client, "the server closed the connection");
  }

  // Whole messages: an ErrorResponse fails the client, ReadyForQuery ends a phase.
  void parse(Client& client) {
    size_t at = 0;
    while (client.in.size() - at >= 5) {
      uint32_t length;
      std::memcpy(&length, client.in.data() + at + 1, 4);
      length = ntohl(length);
      if (length < 4) return fail(client, "bad message length");
      if (client.in.size() - at < 1 + length) break;
      const char type = client.in[at];
      const std::string_view body(client.in.data() + at + 5, length - 4);
      at += 1 + length;
      if (type == 'E') return fail(client, error_text(body));
      if (type == 'R' && body.substr(0, 4) != std::string_view("\0\0\0\0", 4)) {
        return fail(client, "the pooler asked for a password (the burst logs in with trust)");
      }
      if (type != 'Z') continue;
      if (client.phase == Phase::LoggingIn) {
        client.phase = Phase::Querying;
        client.out = query_;
        if (!flush(client)) return;
      } else if (client.phase == Phase::Querying) {
        client.phase = Phase::Done;
        ++served_;
        --pending_;
        answered_.push_back(std::chrono::duration<double>(Clock::now() - start_).count());
      }
    }
    client.in.erase(0, at);
  }

  static std::string error_text(std::string_view body) {
    std::string_view code = "?", message;
    for (size_t at = 0; at < body.size() && body[at] != '\0';) {
      size_t end = body.find('\0', at + 1);
      if (end == std::string_view::npos) break;
      if (body[at] == 'C') code = body.substr(at + 1, end - at - 1);
      if (body[at] == 'M') message = body.substr(at + 1, end - at - 1);
      at = end + 1;
    }
    return std::string(code) + " " + std::string(message);
  }

  void fail(Client& client, const std::string& why) {
    if (client.phase == Phase::Failed || client.phase == Phase::Done) return;
    client.phase = Phase::Failed;
    ++failed_;
    --pending_;
    if (first_failure_.empty()) first_failure_ = why;
  }

  int report_fatal(const char* what) {
    std::fprintf(stderr, "burst_client: %s: %s\n", what, std::strerror(errno));
    return 1;
  }

  int port_;
  std::vector<Client> clients_;
  std::string login_, query_;
  int epoll_ = -1;
  Clock::time_point start_;
  std::vector<double> answered_;  // seconds from the first connect, per client served
  size_t pending_ = 0, served_ = 0, failed_ = 0;
  std::string first_failure_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: burst_client PORT COUNT [USER [DATABASE]]\n");
    return 2;
  }
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  const std::string user = argc > 3 ? argv[3] : "postgres";
  const std::string database = argc > 4 ? argv[4] : "postgres";
  return Burst(std::atoi(argv[1]), std::atoi(argv[2]), user, database).run();
}
