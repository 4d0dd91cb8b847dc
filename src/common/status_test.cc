#include "common/status.h"

#include <gtest/gtest.h>

namespace axon {
namespace {

TEST(StatusOrTest, HoldsAValueOrAnError) {
  StatusOr<int> value = 3;
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, 3);
  StatusOr<int> error = NotFound("no such thing");
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnauthenticated), 401);
}

TEST(StatusOrTest, AnOkStatusIsNotAValue) {
  StatusOr<int> odd = OkStatus();
  EXPECT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), StatusCode::kInternal);
}

// Reading the value of an error is a bug: it aborts with the error's message in every build,
// not only where asserts are compiled in.
TEST(StatusOrDeathTest, ValueOfAnErrorAbortsWithItsMessage) {
  StatusOr<std::string> error = Internal("the disk is on fire");
  EXPECT_DEATH((void)error.value(), "StatusOr::value\\(\\) on an error: the disk is on fire");
  EXPECT_DEATH((void)error->size(), "the disk is on fire");
}

}  // namespace
}  // namespace axon
