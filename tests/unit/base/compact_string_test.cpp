#include "base/compact_string.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace breakwater::base {
namespace {

TEST(CompactString, IsHalfTheSizeOfAStdString) { static_assert(sizeof(CompactString) == 16); }

TEST(CompactString, KeepsShortTextInPlace) {
  for (size_t size = 0; size <= 15; ++size) {
    std::string text(size, 'a');
    for (size_t i = 0; i < size; ++i) text[i] = static_cast<char>('a' + i);
    CompactString compact(text);
    EXPECT_EQ(compact.view(), text) << size;
    EXPECT_EQ(compact.size(), size);
    EXPECT_FALSE(compact.on_heap()) << size;
  }
  EXPECT_TRUE(CompactString().empty());
}

TEST(CompactString, PutsLongerTextOnTheHeap) {
  const std::string text = "a_database_name_of_sixteen_or_more_bytes";
  CompactString compact(text);
  EXPECT_TRUE(compact.on_heap());
  EXPECT_EQ(compact.view(), text);
  EXPECT_EQ(compact.str(), text);
  EXPECT_EQ(CompactString(std::string(16, 'x')).size(), 16u);
}

TEST(CompactString, KeepsEmbeddedZeroBytes) {
  const std::string text("a\0b", 3);
  EXPECT_EQ(CompactString(text).view(), text);
}

TEST(CompactString, CopiesAndMovesEitherKind) {
  for (const std::string text : {"postgres", "a_much_longer_user_name_for_the_heap"}) {
    CompactString original(text);
    CompactString copy(original);
    EXPECT_EQ(copy, original);
    CompactString assigned;
    assigned = original;
    EXPECT_EQ(assigned.view(), text);
    CompactString moved(std::move(copy));
    EXPECT_EQ(moved.view(), text);
    EXPECT_TRUE(copy.empty());  // NOLINT: a moved-from CompactString is empty
    CompactString move_assigned("old value that lives on the heap");
    move_assigned = std::move(moved);
    EXPECT_EQ(move_assigned.view(), text);
    EXPECT_EQ(original.view(), text);
  }
}

TEST(CompactString, AssignsFromItsOwnText) {
  CompactString long_text("a_much_longer_user_name_for_the_heap");
  long_text = long_text.view().substr(2);
  EXPECT_EQ(long_text.view(), "much_longer_user_name_for_the_heap");
  const CompactString& same = long_text;
  long_text = same;
  EXPECT_EQ(long_text.view(), "much_longer_user_name_for_the_heap");
  long_text = long_text.view().substr(0, 4);
  EXPECT_EQ(long_text.view(), "much");
  EXPECT_FALSE(long_text.on_heap());
}

TEST(CompactString, ComparesWithText) {
  CompactString name("app");
  EXPECT_TRUE(name == std::string_view("app"));
  EXPECT_FALSE(name == std::string_view("apps"));
  EXPECT_TRUE(name == CompactString("app"));
}

}  // namespace
}  // namespace breakwater::base
