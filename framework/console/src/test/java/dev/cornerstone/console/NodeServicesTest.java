package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class NodeServicesTest {

    @Test
    void aValidationErrorNamesTheSpecKeyItIsAbout() {
        assertThat(NodeServices.field("train.batch_size: 0 is not allowed; expected an integer in [1, 65536]"))
                .isEqualTo("train.batch_size");
        assertThat(NodeServices.field("model.name: no model named 'gtp' is registered (available: gpt)"))
                .isEqualTo("model.name");
        assertThat(NodeServices.field("optimizer.lr is required: a number")).isEqualTo("optimizer.lr");
        assertThat(NodeServices.field("data: must be a section (a mapping of keys), got 3")).isEqualTo("data");
        assertThat(NodeServices.field("no job 'x' on this node")).isNull();
        assertThat(NodeServices.field("id: 'a b' is not a job id")).as("not a spec key").isNull();
    }

    @Test
    void userErrorsMapToStatuses() {
        assertThat(NodeServices.userError("no job 'x' on this node (jobs: none)").status).isEqualTo(404);
        ApiError e = NodeServices.userError("train.steps: -1 is not allowed");
        assertThat(e.status).isEqualTo(400);
        assertThat(e.field).isEqualTo("train.steps");
        assertThat(e.getStackTrace()).as("an ApiError carries no stack trace").isEmpty();
    }
}
