#include "protocol/frontend_messages.hpp"

#include <gtest/gtest.h>

#include "protocol/framing.hpp"
#include "protocol/message_writer.hpp"

namespace breakwater::protocol {
namespace {

Bytes body_of(const ByteBuffer& packet) { return Bytes(packet).subspan(4); }

TEST(FrontendMessages, StartupMessage_ParametersInOrder) {
  ByteBuffer out;
  write_startup_message(out, {{"user", "alice"}, {"database", "shop"}, {"application_name", "psql"}});
  auto parsed = parse_startup_packet(body_of(out));
  ASSERT_TRUE(parsed);
  auto& startup = std::get<StartupMessage>(*parsed);
  ASSERT_EQ(startup.parameters.size(), 3u);
  EXPECT_EQ(*startup.find("user"), "alice");
  EXPECT_EQ(*startup.find("application_name"), "psql");
  EXPECT_EQ(startup.find("options"), nullptr);
}

TEST(FrontendMessages, SslGssAndCancelRequests) {
  ByteBuffer ssl;
  write_ssl_request(ssl);
  EXPECT_TRUE(std::holds_alternative<SslRequest>(*parse_startup_packet(body_of(ssl))));
  ByteBuffer cancel;
  write_cancel_request(cancel, {1234, 0xdeadbeef});
  auto parsed = parse_startup_packet(body_of(cancel));
  ASSERT_TRUE(parsed);
  auto& request = std::get<CancelRequest>(*parsed);
  EXPECT_EQ(request.process_id, 1234u);
  EXPECT_EQ(request.secret_key, 0xdeadbeefu);
  const uint8_t gss[] = {0x04, 0xd2, 0x16, 0x30};
  EXPECT_TRUE(std::holds_alternative<GssEncRequest>(*parse_startup_packet(gss)));
}

TEST(FrontendMessages, StartupMessage_RejectsOldProtocolAndMissingTerminator) {
  const uint8_t v2[] = {0, 2, 0, 0, 'u', 0, 'x', 0, 0};
  auto old = parse_startup_packet(v2);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().find("unsupported frontend protocol 2.0"), std::string::npos);
  const uint8_t unterminated[] = {0, 3, 0, 0, 'u', 's', 'e', 'r'};
  EXPECT_FALSE(parse_startup_packet(unterminated));
  const uint8_t no_value[] = {0, 3, 0, 0, 'u', 0};
  EXPECT_FALSE(parse_startup_packet(no_value));
}

TEST(FrontendMessages, ExtendedProtocolMessages) {
  const uint8_t parse_body[] = {'s', '1', 0, 's', 'e', 'l', 0, 0, 1, 0, 0, 0, 23};
  auto parse = parse_parse(parse_body);
  ASSERT_TRUE(parse);
  EXPECT_EQ(parse->statement, "s1");
  EXPECT_EQ(parse->query, "sel");
  const uint8_t truncated_types[] = {'s', 0, 'q', 0, 0, 2, 0, 0, 0, 23};
  EXPECT_FALSE(parse_parse(truncated_types));
  const uint8_t bind_body[] = {'p', 0, 's', '1', 0, 0, 0};
  auto bind = parse_bind(bind_body);
  ASSERT_TRUE(bind);
  EXPECT_EQ(bind->portal, "p");
  EXPECT_EQ(bind->statement, "s1");
  const uint8_t close_body[] = {'S', 's', '1', 0};
  EXPECT_EQ(parse_close_or_describe(close_body)->name, "s1");
  const uint8_t bad_kind[] = {'Z', 0};
  EXPECT_FALSE(parse_close_or_describe(bad_kind));
  const uint8_t query[] = {'s', 'e', 'l', 0};
  EXPECT_EQ(*parse_query(query), "sel");
  const uint8_t no_nul[] = {'s'};
  EXPECT_FALSE(parse_query(no_nul));
}

TEST(FrontendMessages, SaslInitialResponseRoundTrips) {
  ByteBuffer out;
  write_sasl_initial_response(out, "SCRAM-SHA-256", as_bytes("n,,n=,r=abc"));
  auto parsed = parse_sasl_initial_response(Bytes(out).subspan(5));
  ASSERT_TRUE(parsed) << parsed.error();
  EXPECT_EQ(parsed->mechanism, "SCRAM-SHA-256");
  EXPECT_EQ(parsed->data, "n,,n=,r=abc");
  const uint8_t no_data[] = {'M', 0, 0xff, 0xff, 0xff, 0xff};
  ASSERT_TRUE(parse_sasl_initial_response(no_data));
  EXPECT_TRUE(parse_sasl_initial_response(no_data)->data.empty());
  const uint8_t too_long[] = {'M', 0, 0, 0, 0, 9, 'x'};
  EXPECT_FALSE(parse_sasl_initial_response(too_long));
  const uint8_t negative[] = {'M', 0, 0xff, 0xff, 0xff, 0xfe};
  EXPECT_FALSE(parse_sasl_initial_response(negative));
}

}  // namespace
}  // namespace breakwater::protocol
