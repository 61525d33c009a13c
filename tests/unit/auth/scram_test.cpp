#include "auth/scram.hpp"

#include <gtest/gtest.h>

#include "auth/base64.hpp"

namespace breakwater::auth::scram {
namespace {

// RFC 7677, section 3: user "user", password "pencil".
constexpr std::string_view kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

Secret rfc_secret() { return make_secret("pencil", *base64_decode("W22ZaJ0SNY7soEsUEjb6gQ=="), 4096); }

TEST(Base64, RoundTripsAndRejectsJunk) {
  for (std::string_view text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    EXPECT_EQ(base64_decode(base64_encode(text)), std::string(text));
  }
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_FALSE(base64_decode("Zm8"));
  EXPECT_FALSE(base64_decode("Zm=8"));
  EXPECT_FALSE(base64_decode("Z!8="));
}

TEST(Scram, ServerSideAcceptsRfc7677Exchange) {
  ServerExchange server(rfc_secret(), std::string(kServerNonce));
  auto first = server.client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(*first, kServerFirst);
  auto final_message = server.client_final(kClientFinal);
  ASSERT_TRUE(final_message) << final_message.error();
  EXPECT_EQ(*final_message, kServerFinal);
}

TEST(Scram, ClientSideProducesRfc7677Exchange) {
  auto client = ClientExchange::with_password("pencil", std::string(kClientNonce));
  EXPECT_EQ(client.client_first(), "n,,n=,r=rOprNGfwEbeRWgbNEkqO");
  // PostgreSQL ignores the user name, so libpq and Breakwater send "n=": the auth
  // message differs from the RFC's, so check against a server run on the same input.
  ServerExchange server(rfc_secret(), std::string(kServerNonce));
  auto server_first = server.client_first(client.client_first());
  ASSERT_TRUE(server_first);
  auto client_final = client.server_first(*server_first);
  ASSERT_TRUE(client_final) << client_final.error();
  auto server_final = server.client_final(*client_final);
  ASSERT_TRUE(server_final) << server_final.error();
  EXPECT_TRUE(client.server_final(*server_final));
  EXPECT_FALSE(client.server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="));
}

TEST(Scram, WrongPasswordIsRefused) {
  auto client = ClientExchange::with_password("pencils", "nonce");
  ServerExchange server(rfc_secret(), "server");
  auto client_final = client.server_first(*server.client_first(client.client_first()));
  ASSERT_TRUE(client_final);
  auto refused = server.client_final(*client_final);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), "SCRAM proof is wrong");
}

TEST(Scram, PassThroughKeysLogInLikeThePassword) {
  // A client proves itself to Breakwater; Breakwater logs in to a server holding the
  // same secret with the recovered ClientKey, without the password.
  auto client = ClientExchange::with_password("pencil", "c1");
  ServerExchange breakwater(rfc_secret(), "s1");
  auto client_final = client.server_first(*breakwater.client_first(client.client_first()));
  ASSERT_TRUE(breakwater.client_final(*client_final));

  auto relay = ClientExchange::with_keys(breakwater.pass_through_keys(), "c2");
  ServerExchange postgres(rfc_secret(), "s2");
  auto relay_final = relay.server_first(*postgres.client_first(relay.client_first()));
  ASSERT_TRUE(relay_final);
  auto accepted = postgres.client_final(*relay_final);
  ASSERT_TRUE(accepted) << accepted.error();
  EXPECT_TRUE(relay.server_final(*accepted));
}

TEST(Scram, KeysFromPasswordOnlyForTheRightPassword) {
  auto keys = keys_from_password(rfc_secret(), "pencil");
  ASSERT_TRUE(keys);
  EXPECT_FALSE(keys_from_password(rfc_secret(), "pencil2"));
  ServerExchange postgres(rfc_secret(), "s");
  auto relay = ClientExchange::with_keys(*keys, "c");
  auto relay_final = relay.server_first(*postgres.client_first(relay.client_first()));
  EXPECT_TRUE(postgres.client_final(*relay_final));
}

TEST(Scram, DecoySecretRefusesEveryone) {
  auto client = ClientExchange::with_password("pencil", "c");
  ServerExchange server(decoy_secret(4096), "s");
  auto client_final = client.server_first(*server.client_first(client.client_first()));
  ASSERT_TRUE(client_final);
  EXPECT_FALSE(server.client_final(*client_final));
}

TEST(Scram, SecretsParseAndFormat) {
  // PostgreSQL's form for password "pencil" with the RFC's salt.
  std::string text = format_secret(rfc_secret());
  EXPECT_TRUE(looks_like_secret(text));
  auto parsed = parse_secret(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->iterations, 4096);
  EXPECT_EQ(format_secret(*parsed), text);
  EXPECT_EQ(text.substr(0, 44), "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$");
  for (std::string_view bad : {"SCRAM-SHA-256$", "SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$a:b",
                               "SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$short:short", "md5abc"}) {
    EXPECT_FALSE(parse_secret(bad)) << bad;
  }
}

TEST(Scram, MalformedMessagesAreRefused) {
  ServerExchange server(rfc_secret(), "s");
  EXPECT_FALSE(server.client_first("p=tls-server-end-point,,n=,r=abc"));
  EXPECT_FALSE(server.client_first("n,a=admin,n=,r=abc"));
  EXPECT_FALSE(server.client_first("n,,r=abc"));
  EXPECT_FALSE(server.client_first("x,,n=,r=abc"));
  EXPECT_FALSE(server.client_final("c=biws,r=abc,p=AAAA")) << "no client-first yet";
  ASSERT_TRUE(server.client_first("n,,n=,r=abc"));
  EXPECT_FALSE(server.client_final("c=biws,r=wrongnonce,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="));
  EXPECT_FALSE(server.client_final("c=eSws,r=abcs,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
      << "channel-binding data must match the gs2 header";
}

}  // namespace
}  // namespace breakwater::auth::scram
