package dev.cornerstone.configjson;

import dev.cornerstone.configjson.ConfigFileName.Factory;
import dev.cornerstone.configjson.ConfigFileName.Singleton;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigFileNameTest {

    @ParameterizedTest
    @CsvSource({
            "app.cfg.json,                      app",
            "org.example.web.cfg.json,          org.example.web",
            "dev.cornerstone.Node_1.cfg.json,   dev.cornerstone.Node_1",
            "a.cfg.json.cfg.json,               a.cfg.json",
    })
    void aNameWithoutSeparatorIsASingletonPid(String fileName, String pid) {
        assertThat(ConfigFileName.of(fileName)).isEqualTo(new Singleton(pid));
        assertThat(ConfigFileName.of(fileName).pid()).isEqualTo(pid);
    }

    @ParameterizedTest
    @CsvSource({
            "org.example.web~main.cfg.json,     org.example.web,   main",
            "web~main-site.cfg.json,            web,               main-site",
            "my-factory~my-name.cfg.json,       my-factory,        my-name",
            "web~a~b.cfg.json,                  web,               a~b",
            "org.example.web-main.cfg.json,     org.example.web,   main",
            "web-main-site.cfg.json,            web,               main-site",
    })
    void aTildeOrElseADashSeparatesFactoryPidAndName(String fileName, String factoryPid, String name) {
        assertThat(ConfigFileName.of(fileName)).isEqualTo(new Factory(factoryPid, name));
    }

    @Test
    void aFactoryConfigurationsPidJoinsFactoryPidAndNameWithATilde() {
        assertThat(ConfigFileName.of("web-main.cfg.json").pid()).isEqualTo("web~main");
        assertThat(new Factory("org.example.web", "main").pid()).isEqualTo("org.example.web~main");
    }

    @ParameterizedTest
    @ValueSource(strings = {"~main.cfg.json", "web~.cfg.json", "-main.cfg.json", "web-.cfg.json", "~.cfg.json"})
    void anEmptyFactoryPidOrNameIsRefused(String fileName) {
        assertThatThrownBy(() -> ConfigFileName.of(fileName))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(fileName + ": ")
                .hasMessageContaining("neither part empty");
    }

    @Test
    void aNameWithNothingBeforeTheSuffixIsRefused() {
        assertThatThrownBy(() -> ConfigFileName.of(".cfg.json"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(".cfg.json: no PID before .cfg.json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"app.cfg", "app.config", "app.json", "app.cfg.json.bak", "app.CFG.JSON"})
    void otherFilesAreNotCfgJsonFiles(String fileName) {
        assertThat(ConfigFileName.matches(fileName)).isFalse();
        assertThatThrownBy(() -> ConfigFileName.of(fileName))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(fileName + ": not a .cfg.json file");
    }

    @Test
    void cfgJsonFilesMatch() {
        assertThat(ConfigFileName.matches("app.cfg.json")).isTrue();
        assertThat(ConfigFileName.matches("web~main.cfg.json")).isTrue();
    }
}
